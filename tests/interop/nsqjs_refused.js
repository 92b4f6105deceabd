// Interop check with nsqjs: a Writer that nsqd refuses (an AUTH secret the auth server turns
// down, or a connection past --tcp-max-connections) must see the error frame nsqd sends as an
// 'error' event, and publish nothing. Prints "REFUSED <error>" and exits 0 when the error text
// matches <error-pattern> (a JavaScript regular expression); exits 1 otherwise.
// usage: node nsqjs_refused.js <nsqd-tcp-port> <topic> <error-pattern> [auth-secret]
'use strict';
const nsq = require('nsqjs');

const [port, topic, pattern, authSecret] = process.argv.slice(2);
const fail = (why) => { console.error('FAIL: ' + why); process.exit(1); };
setTimeout(() => fail('timed out without an error'), 20000).unref();

const expected = new RegExp(pattern);
const writer = new nsq.Writer('127.0.0.1', parseInt(port, 10), authSecret ? { authSecret } : {});
writer.on('error', (err) => {
  const text = String(err && err.message ? err.message : err);
  if (!expected.test(text)) fail('unexpected error: ' + text);
  console.log('REFUSED ' + text);
  process.exit(0);
});
writer.on('ready', () => {
  writer.publish(topic, 'must not arrive', (err) => {
    if (!err) fail('publish succeeded although nsqd refused the connection');
  });
});
writer.connect();
