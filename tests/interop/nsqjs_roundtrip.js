// Interop check with nsqjs (a client nobody here wrote): publish with Writer (PUB, MPUB, DPUB),
// consume with Reader, requeue one message once and touch another, and verify that every message
// arrives, the requeued one with attempts == 2. Exits 0 on success, 1 with a reason otherwise.
// usage: node nsqjs_roundtrip.js <nsqd-tcp-port> <topic> <count> [plain|deflate|snappy] [tls|none] [auth-secret]
// ("tls": connect with TLS, not verifying the server's throwaway certificate; auth-secret: sent
// with AUTH by both the Writer and the Reader)
'use strict';
const nsq = require('nsqjs');

const [port, topic, countArg, compression = 'plain', security = 'none', authSecret] = process.argv.slice(2);
const connOptions = {};
if (authSecret) connOptions.authSecret = authSecret;
if (security === 'tls') Object.assign(connOptions, { tls: true, tlsVerification: false });
if (compression === 'deflate') Object.assign(connOptions, { deflate: true, deflateLevel: 6 });
if (compression === 'snappy') connOptions.snappy = true;
const count = parseInt(countArg, 10);
const fail = (why) => { console.error('FAIL: ' + why); process.exit(1); };
setTimeout(() => fail(`timed out; received ${received.size} of ${expected.size}`), 30000).unref();

const expected = new Set();
const received = new Set();
let requeuedSeen = false;
let touched = false;

const writer = new nsq.Writer('127.0.0.1', parseInt(port, 10), connOptions);
writer.on('error', (err) => fail('writer error: ' + err));
writer.on('ready', () => {
  const singles = [];
  for (let i = 0; i < count; i++) {
    const body = `msg-${i}`;
    expected.add(body);
    singles.push(body);
  }
  const half = Math.floor(count / 2);
  writer.publish(topic, singles.slice(0, half), (err) => {  // array -> MPUB
    if (err) fail('MPUB failed: ' + err);
    let pending = count - half;
    for (const body of singles.slice(half)) {
      writer.publish(topic, body, (err2) => {
        if (err2) fail('PUB failed: ' + err2);
        if (--pending === 0) {
          expected.add('deferred');
          writer.deferPublish(topic, ['deferred'], 200, (err3) => {
            if (err3) fail('DPUB failed: ' + err3);
            startReader();
          });
        }
      });
    }
  });
});
writer.connect();

function startReader() {
  const reader = new nsq.Reader(topic, 'interop', {
    nsqdTCPAddresses: [`127.0.0.1:${port}`],
    maxInFlight: 10,
    ...connOptions,
  });
  reader.on('error', (err) => fail('reader error: ' + err));
  reader.on('message', (msg) => {
    const body = msg.body.toString();
    if (!expected.has(body)) fail('unexpected message body ' + body);
    if (body === 'msg-0' && !requeuedSeen) {
      requeuedSeen = true;
      if (msg.attempts !== 1) fail('first delivery attempts ' + msg.attempts);
      msg.requeue(0, false);
      return;
    }
    if (body === 'msg-0' && msg.attempts !== 2) fail('requeued message attempts ' + msg.attempts);
    if (body === 'msg-1' && !touched) {
      touched = true;
      msg.touch();
    }
    msg.finish();
    received.add(body);
    if (received.size === expected.size) {
      if (!requeuedSeen) fail('requeue path not exercised');
      console.log(`OK ${received.size} messages`);
      reader.close();
      writer.close();
      setTimeout(() => process.exit(0), 200);
    }
  });
  reader.connect();
}
