// Interop check with nsq.js (segmentio's pure-JavaScript NSQ client, a third client from npm):
// publish with its Writer (MPUB, then PUB), consume with its Reader connected to nsqd, requeue one
// message once (REQ) and touch another (TOUCH), and verify every message arrives exactly as sent,
// the requeued one with attempts == 2, and FIN for all. nsq.js has no DPUB. Its lookupd discovery
// (nsq-lookup 3.0.0) reads only the pre-1.0 {"data":{...}} reply, which the original nsqlookupd
// 1.3 does not send either, so the Reader is given nsqd's address.
// Exits 0 printing "OK <n> messages", 1 with a reason otherwise.
// usage: node nsq_js_roundtrip.js <nsqd-tcp-port> <topic> <count>
'use strict';
const nsq = require('nsq.js');

const [nsqdPort, topic, countArg] = process.argv.slice(2);
const count = parseInt(countArg, 10);
const fail = (why) => { console.error('FAIL: ' + why); process.exit(1); };
const bodies = [];
for (let i = 0; i < count; i++) bodies.push(`msg-${i}\n\r\u0000end`);  // bytes a line client would break
const expected = new Set(bodies);
const received = new Set();
setTimeout(() => fail(`timed out; received ${received.size} of ${expected.size}`), 30000).unref();

function publish() {
  return new Promise((resolve) => {
    const writer = nsq.writer({ nsqd: [`127.0.0.1:${nsqdPort}`], maxConnectionAttempts: 1 });
    writer.on('error', (err) => fail('writer error: ' + err));
    writer.on('ready', () => {
      const half = Math.floor(count / 2);
      writer.publish(topic, bodies.slice(0, half).map((b) => Buffer.from(b)), (err) => {  // MPUB
        if (err) fail('MPUB: ' + err);
        let left = count - half;
        for (const body of bodies.slice(half)) {
          writer.publish(topic, Buffer.from(body), (err2) => {  // PUB
            if (err2) fail('PUB: ' + err2);
            if (--left === 0) writer.close(resolve);
          });
        }
      });
    });
  });
}

function consume() {
  return new Promise((resolve) => {
    const reader = nsq.reader({
      nsqd: [`127.0.0.1:${nsqdPort}`], topic, channel: 'interop', maxInFlight: 10,
      maxConnectionAttempts: 1,
    });
    reader.on('error', (err) => fail('reader error: ' + err));
    let requeued = false;
    let touched = false;
    reader.on('message', (msg) => {
      const body = msg.body.toString();
      if (!expected.has(body)) fail('unexpected message body ' + JSON.stringify(body));
      if (body === bodies[0] && !requeued) {
        requeued = true;
        if (msg.attempts !== 1) fail('first delivery attempts ' + msg.attempts);
        msg.requeue(0);
        return;
      }
      if (body === bodies[0] && msg.attempts !== 2) fail('requeued message attempts ' + msg.attempts);
      if (body === bodies[1] && !touched) {
        touched = true;
        msg.touch();
      }
      msg.finish();
      received.add(body);
      if (received.size === expected.size) {
        if (!requeued || !touched) fail('requeue or touch path not exercised');
        reader.close(resolve);
      }
    });
  });
}

publish()
  .then(consume)
  .then(() => { console.log(`OK ${received.size} messages`); process.exit(0); })
  .catch((err) => fail(String(err && err.stack || err)));
