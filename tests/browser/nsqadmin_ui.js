// nsqadmin's web UI in a real headless Chromium (Debian's chromium, driven by puppeteer-core):
// every page loads and shows the live cluster, pausing a channel from the UI (after accepting
// the confirmation) reaches both nsqd, and the graph has data points.
// Usage: node nsqadmin_ui.js ADMIN_URL NSQD_HTTP_A NSQD_HTTP_B TOPIC CHANNEL [SCREENSHOT_DIR]
// Exit 0 when every check passed; the failure on stderr otherwise.
"use strict";
const puppeteer = require("puppeteer-core");
const path = require("path");

const [admin, nsqdA, nsqdB, topic, channel, shots] = process.argv.slice(2);
const chromium = process.env.CHROMIUM || "/usr/bin/chromium";

function check(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
}

async function channelPaused(nsqd) {
  const res = await fetch(`http://${nsqd}/stats?format=json&topic=${encodeURIComponent(topic)}&channel=${encodeURIComponent(channel)}`);
  const stats = await res.json();
  const t = stats.topics.find((x) => x.topic_name === topic);
  const c = t && t.channels.find((x) => x.channel_name === channel);
  return !!(c && c.paused);
}

async function main() {
  const args = ["--headless=new", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"];
  if (process.getuid && process.getuid() === 0) args.push("--no-sandbox");
  const browser = await puppeteer.launch({executablePath: chromium, args: args,
                                          defaultViewport: {width: 1280, height: 860}});
  const errors = [];
  try {
    const page = await browser.newPage();
    page.on("pageerror", (e) => errors.push("page error: " + e.message));
    page.on("console", (m) => { if (m.type() === "error") errors.push("console error: " + m.text()); });
    page.on("dialog", (d) => d.accept());  // the confirmation before an action
    const wait = {timeout: 20000};

    // Topic list: the topic, its figures and sparklines drawn from the history.
    await page.goto(admin + "/", {waitUntil: "domcontentloaded"});
    await page.waitForSelector(`tr[data-topic="${topic}"] a`, wait);
    await page.waitForFunction((t) => {
      const c = document.querySelector(`tr[data-topic="${t}"] canvas.spark`);
      return c && Number(c.dataset.points || 0) >= 2;
    }, wait, topic);
    if (shots) await page.screenshot({path: path.join(shots, "nsqadmin-topics.png")});

    // Topic page: its channel, both producers, and the graph with points.
    await page.click(`tr[data-topic="${topic}"] a`);  // in-page navigation, no reload
    await page.waitForSelector(`tr[data-channel="${channel}"]`, wait);
    await page.waitForFunction(() => document.querySelectorAll("#nodes tr[data-node]").length === 2, wait);
    await page.waitForFunction(() => {
      const chart = window.Chart && window.Chart.getChart(document.getElementById("history-chart"));
      return chart && chart.data.datasets[0].data.length >= 2;
    }, wait);
    if (shots) await page.screenshot({path: path.join(shots, "nsqadmin-topic.png"), fullPage: true});

    // Channel page: nodes, the subscribed client, then pause with the confirmation accepted.
    await page.goto(`${admin}/topics/${encodeURIComponent(topic)}/${encodeURIComponent(channel)}`, {waitUntil: "domcontentloaded"});
    await page.waitForFunction(() => document.querySelectorAll("#nodes tr[data-node]").length === 2, wait);
    await page.waitForSelector("#clients table tbody tr", wait);
    await page.waitForFunction(() => {
      const chart = window.Chart && window.Chart.getChart(document.getElementById("history-chart"));
      return chart && chart.data.datasets[0].data.length >= 2;
    }, wait);
    if (shots) await page.screenshot({path: path.join(shots, "nsqadmin-channel.png"), fullPage: true});
    check(!(await channelPaused(nsqdA)) && !(await channelPaused(nsqdB)), "channel starts unpaused");
    await page.click("#action-pause");
    await page.waitForSelector(".notice.success ul.results", wait);
    const results = await page.$$eval(".notice.success ul.results li", (lis) => lis.map((li) => li.textContent));
    check(results.length === 2, "one result per nsqd, got " + JSON.stringify(results));
    check(await channelPaused(nsqdA), "paused on the first nsqd");
    check(await channelPaused(nsqdB), "paused on the second nsqd");
    await page.waitForSelector("#state .badge.paused", wait);  // the page shows it after its refresh

    // Nodes, one node, counter, lookup.
    await page.goto(admin + "/nodes", {waitUntil: "domcontentloaded"});
    await page.waitForFunction(() => document.querySelectorAll("#nodes tr[data-node]").length === 2, wait);
    if (shots) await page.screenshot({path: path.join(shots, "nsqadmin-nodes.png")});
    await page.goto(`${admin}/nodes/${encodeURIComponent(nsqdA)}`, {waitUntil: "domcontentloaded"});
    await page.waitForFunction((t) => document.querySelector("#topics") && document.querySelector("#topics").textContent.includes(t), wait, topic);
    await page.goto(admin + "/counter", {waitUntil: "domcontentloaded"});
    await page.waitForFunction(() => /\d/.test(document.getElementById("counter").textContent), wait);
    await page.goto(admin + "/lookup", {waitUntil: "domcontentloaded"});
    await page.waitForSelector("#create-topic", wait);
    await page.waitForFunction(() => !!document.querySelector("#inactive .empty, #inactive table"), wait);
    check(errors.length === 0, errors.join("; "));
  } finally {
    await browser.close();
  }
}

main().then(() => { console.log("ok"); process.exit(0); },
            (e) => { console.error(e && e.stack ? e.stack : String(e)); process.exit(1); });
