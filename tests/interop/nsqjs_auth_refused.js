// Interop check with nsqjs: a Writer whose AUTH secret the auth server refuses must see the
// error nsqd sends (E_AUTH_FAILED / E_UNAUTHORIZED) as an 'error' event, and publish nothing.
// Prints "REFUSED <error>" and exits 0 when it does; exits 1 otherwise.
// usage: node nsqjs_auth_refused.js <nsqd-tcp-port> <topic> <auth-secret>
'use strict';
const nsq = require('nsqjs');

const [port, topic, authSecret] = process.argv.slice(2);
const fail = (why) => { console.error('FAIL: ' + why); process.exit(1); };
setTimeout(() => fail('timed out without an error'), 20000).unref();

const writer = new nsq.Writer('127.0.0.1', parseInt(port, 10), { authSecret });
writer.on('error', (err) => {
  const text = String(err && err.message ? err.message : err);
  if (!/^E_(AUTH_FAILED|UNAUTHORIZED) /.test(text)) fail('unexpected error: ' + text);
  console.log('REFUSED ' + text);
  process.exit(0);
});
writer.on('ready', () => {
  writer.publish(topic, 'must not arrive', (err) => {
    if (!err) fail('publish succeeded with a refused secret');
  });
});
writer.connect();
