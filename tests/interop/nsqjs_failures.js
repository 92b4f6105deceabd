// Failure cases with nsqjs (unmodified, from npm) against our nsqd. Each case provokes the
// failure, prints what nsqjs surfaced as "SURFACED: <text>", then proves nsqd still serves a
// well-behaved nsqjs client (publish and consume one message) and prints "GOOD: <detail>".
// Exits 0 when both happened, 1 with "FAIL: <why>" otherwise.
//
// usage: node nsqjs_failures.js <nsqd-tcp-port> <case> [args]
//   badcert <stranger-ca.pem> <good-ca.pem>  TLS to a server whose certificate the given CA did not sign
//   deflatelevel <level>                     deflate at a level above nsqd's --max-deflate-level
//   bothcompressions                         snappy and deflate asked for at once
'use strict';
const fs = require('fs');
const nsq = require('nsqjs');

const [portArg, which, ...args] = process.argv.slice(2);
const port = parseInt(portArg, 10);
const fail = (why) => { console.error('FAIL: ' + why); process.exit(1); };
setTimeout(() => fail('timed out'), 20000).unref();

// Publishes one message with a fresh Writer and reads it back with a Reader, both with options.
function goodRoundTrip(options, topic, then) {
  const body = 'still-serving-' + Date.now();
  const writer = new nsq.Writer('127.0.0.1', port, options);
  writer.on('error', (err) => fail('good writer error: ' + err));
  writer.on('ready', () => {
    writer.publish(topic, body, (err) => {
      if (err) fail('good publish failed: ' + err);
      const reader = new nsq.Reader(topic, 'check', { nsqdTCPAddresses: [`127.0.0.1:${port}`], ...options });
      reader.on('error', (err2) => fail('good reader error: ' + err2));
      reader.on('message', (msg) => {
        msg.finish();
        if (msg.body.toString() !== body) fail('unexpected body ' + msg.body.toString());
        reader.close();
        writer.close();
        then();
      });
      reader.connect();
    });
  });
  writer.connect();
}

function finish(detail) {
  console.log('GOOD: ' + detail);
  setTimeout(() => process.exit(0), 200);
}

// Waits for the writer to fail; a writer that becomes ready is a failure of the test.
function expectError(writer, then) {
  let surfaced = false;
  writer.on('ready', () => fail('connection was accepted'));
  writer.on('error', (err) => {
    if (surfaced) return;  // the close that follows may report again
    surfaced = true;
    console.log('SURFACED: ' + (err && err.message ? err.message : String(err)));
    setTimeout(then, 100);
  });
}

if (which === 'badcert') {
  const [strangerCa, goodCa] = args;
  const writer = new nsq.Writer('127.0.0.1', port, { tls: true, tlsVerification: true, ca: fs.readFileSync(strangerCa) });
  expectError(writer, () =>
    goodRoundTrip({ tls: true, tlsVerification: true, ca: fs.readFileSync(goodCa) }, 'failures_tls', () => finish('tls')));
  writer.connect();
} else if (which === 'deflatelevel') {
  // nsqd clamps the level to --max-deflate-level and says so in its IDENTIFY reply; nsqjs then
  // compresses at the level it was told. No error: the contract clamps, it does not refuse.
  const level = parseInt(args[0], 10);
  const writer = new nsq.Writer('127.0.0.1', port, { deflate: true, deflateLevel: level });
  writer.on('error', (err) => fail('writer error: ' + err));
  writer.on('ready', () => {
    const reply = writer.conn.statemachine.identifyResponse;
    console.log(`SURFACED: deflate=${reply.deflate} deflate_level=${reply.deflate_level} max_deflate_level=${reply.max_deflate_level}`);
    writer.close();
    goodRoundTrip({ deflate: true, deflateLevel: level }, 'failures_deflate', () => finish('deflate'));
  });
  writer.connect();
} else if (which === 'bothcompressions') {
  // nsqjs refuses snappy + deflate in its own option check, so a client that asks for both is
  // made by setting deflate on the connection's (already checked) config before IDENTIFY.
  const writer = new nsq.Writer('127.0.0.1', port, { snappy: true });
  expectError(writer, () => goodRoundTrip({ snappy: true }, 'failures_both', () => finish('snappy')));
  writer.connect();
  writer.conn.config.deflate = true;
} else {
  fail('unknown case ' + which);
}
