// A full topic (message policy max_depth with overflow reject) seen by nsqjs, unmodified from
// npm: the publish past the limit fails in its callback with nsqd's E_PUB_FAILED text. nsqd
// keeps the connection open (the raw-protocol test shows it), but nsqjs itself closes a
// connection after any error frame other than E_FIN/REQ/TOUCH_FAILED, so the Writer then
// reconnects and publishes again. Prints "SURFACED: <error>" and "GOOD: <detail>"; exits 0 when
// both happened, 1 with "FAIL: <why>" otherwise.
//
// usage: node nsqjs_topic_full.js <nsqd-tcp-port> <full-topic> <limit> <other-topic>
'use strict';
const nsq = require('nsqjs');

const [portArg, topic, limitArg, other] = process.argv.slice(2);
const port = parseInt(portArg, 10);
const limit = parseInt(limitArg, 10);
const fail = (why) => { console.error('FAIL: ' + why); process.exit(1); };
setTimeout(() => fail('timed out'), 20000).unref();

const writer = new nsq.Writer('127.0.0.1', port);
let refused = false;
writer.on('error', (err) => {
  if (!refused) fail('writer error event before the refusal: ' + err);
});
writer.once('ready', () => {
  const bodies = [];
  for (let i = 0; i < limit; i++) bodies.push('fits-' + i);
  writer.publish(topic, bodies, (err) => {
    if (err) fail('publish within the limit failed: ' + err);
    writer.publish(topic, 'one-too-many', (err2) => {
      if (!err2) fail('publish past the limit succeeded');
      refused = true;
      console.log('SURFACED: ' + (err2.message ? err2.message : String(err2)));
      const again = new nsq.Writer('127.0.0.1', port);
      again.on('error', (err3) => fail('second writer error: ' + err3));
      again.on('ready', () => {
        again.publish(other, 'after-the-refusal', (err4) => {
          if (err4) fail('publish after the refusal failed: ' + err4);
          console.log('GOOD: published again after the refusal');
          again.close();
          setTimeout(() => process.exit(0), 100);
        });
      });
      again.connect();
    });
  });
});
writer.connect();
