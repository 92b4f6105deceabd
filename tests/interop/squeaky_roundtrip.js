// Interop check with squeaky (a second third-party NSQ client from npm): publish with Publisher
// (MPUB, whose body size squeaky declares as the sum of the message bodies only, then PUB and
// DPUB), consume with Subscriber, requeue one message once (REQ) and touch another (TOUCH), and
// verify every message arrives, the requeued one with attempts == 2, and FIN for all.
// Exits 0 printing "OK <n> messages", 1 with a reason otherwise.
// usage: node squeaky_roundtrip.js <nsqd-tcp-port> <topic> <count> [body-padding]
// (body-padding: each body padded to that many bytes, for MPUBs larger than one socket read)
'use strict';
const Squeaky = require('squeaky');

const [portArg, topic, countArg, paddingArg = '0'] = process.argv.slice(2);
const padding = parseInt(paddingArg, 10);
const first = 'msg-0'.padEnd(padding, '.');   // requeued once
const second = 'msg-1'.padEnd(padding, '.');  // touched once
const port = parseInt(portArg, 10);
const count = parseInt(countArg, 10);
const fail = (why) => { console.error('FAIL: ' + why); process.exit(1); };
const expected = new Set();
const received = new Set();
setTimeout(() => fail(`timed out; received ${received.size} of ${expected.size}`), 30000).unref();

let requeuedSeen = false;
let touched = false;

async function publish() {
  const publisher = new Squeaky.Publisher({ host: '127.0.0.1', port, maxConnectAttempts: 1 });
  publisher.on('error', (err) => fail('publisher error: ' + err));
  const bodies = [];
  for (let i = 0; i < count; i++) bodies.push(`msg-${i}`.padEnd(padding, '.'));
  bodies.forEach((b) => expected.add(b));
  const half = Math.floor(count / 2);
  await publisher.publish(topic, bodies.slice(0, half));                    // MPUB
  for (const body of bodies.slice(half)) await publisher.publish(topic, body);  // PUB
  expected.add('deferred');
  await publisher.publish(topic, 'deferred', 200);                           // DPUB
  await publisher.close();
}

function consume() {
  return new Promise((resolve) => {
    const subscriber = new Squeaky.Subscriber({
      host: '127.0.0.1', port, topic, channel: 'interop', concurrency: 10, maxConnectAttempts: 1,
    });
    subscriber.on('error', (err) => fail('subscriber error: ' + err));
    subscriber.on('message', async (msg) => {
      const body = Buffer.isBuffer(msg.body) ? msg.body.toString() : String(msg.body);
      if (!expected.has(body)) fail('unexpected message body ' + body);
      if (body === first && !requeuedSeen) {
        requeuedSeen = true;
        if (msg.attempts !== 1) fail('first delivery attempts ' + msg.attempts);
        await msg.requeue(0);
        return;
      }
      if (body === first && msg.attempts !== 2) fail('requeued message attempts ' + msg.attempts);
      if (body === second && !touched) {
        touched = true;
        await msg.touch();
      }
      await msg.finish();
      received.add(body);
      if (received.size === expected.size) {
        if (!requeuedSeen || !touched) fail('requeue or touch path not exercised');
        await subscriber.close();
        resolve();
      }
    });
  });
}

publish()
  .then(consume)
  .then(() => { console.log(`OK ${received.size} messages`); process.exit(0); })
  .catch((err) => fail(String(err && err.stack || err)));
