// The sandbox page: renders the bot's messages from the exact HTML it sent (Telegram's tags only, never innerHTML),
// follows the stand-in's events over Server-Sent Events, sends chat messages and faults, and shows status.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { identity: "reader", channelId: null, messages: new Map(), postCount: 0, kicked: false, replyTo: null };
const CHAT_LISTS = { reader: "chat-reader", admin: "chat-admin", editors: "chat-editors", group: "chat-group" };

// -- Telegram HTML, rendered safely ---------------------------------------------------------------------------
const SIMPLE_TAGS = {
  b: "strong", strong: "strong", i: "em", em: "em", u: "u", ins: "u",
  s: "s", strike: "s", del: "s", code: "code", pre: "pre", blockquote: "blockquote",
};
const NAMED = { lt: "<", gt: ">", amp: "&", quot: '"' };
const TAG_RE = /<(\/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[A-Za-z-]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']+))?)*)\s*\/?>/g;
const ATTR_RE = /([A-Za-z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/g;

function decodeEntities(text) {
  return text.replace(/&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z]+);?/g, (whole, ref) => {
    if (ref[0] === "#") {
      const code = ref[1] === "x" || ref[1] === "X" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return Object.prototype.hasOwnProperty.call(NAMED, ref) ? NAMED[ref] : whole;
  });
}

function attributes(raw) {
  const out = {};
  for (const m of raw.matchAll(ATTR_RE)) out[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? "");
  return out;
}

function safeHref(href) {
  try {
    const url = new URL(href, location.href);
    return ["http:", "https:", "tg:", "mailto:"].includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

/** An element for an allowed Telegram tag, or null: everything else is shown as the text it is. */
function elementFor(name, attrs) {
  if (SIMPLE_TAGS[name]) {
    const el = document.createElement(SIMPLE_TAGS[name]);
    if (name === "code" && attrs.class) el.dataset.language = attrs.class.replace(/^language-/, "");
    if (name === "blockquote" && "expandable" in attrs) el.className = "expandable";
    return el;
  }
  if (name === "a") {
    const href = attrs.href && safeHref(attrs.href);
    if (!href) return document.createElement("span");
    const a = document.createElement("a");
    a.href = href;
    a.rel = "noopener noreferrer nofollow";
    a.target = "_blank";
    return a;
  }
  if (name === "tg-spoiler" || (name === "span" && attrs.class === "tg-spoiler")) {
    const el = document.createElement("span");
    el.className = "spoiler";
    el.tabIndex = 0;
    el.title = "Spoiler: click to reveal";
    el.addEventListener("click", () => el.classList.add("revealed"));
    el.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") el.classList.add("revealed"); });
    return el;
  }
  if (name === "tg-emoji") return document.createElement("span");
  return null;
}

/** A fragment showing `html` as Telegram would: only its parse-mode tags become elements. */
function renderTelegramHTML(html) {
  const root = document.createDocumentFragment();
  const stack = [{ name: null, el: root }];
  const top = () => stack[stack.length - 1].el;
  let last = 0;
  for (const m of html.matchAll(TAG_RE)) {
    if (m.index > last) top().append(decodeEntities(html.slice(last, m.index)));
    last = m.index + m[0].length;
    const [whole, closing, rawName, rawAttrs] = m;
    const name = rawName.toLowerCase();
    if (closing) {
      const depth = stack.findLastIndex((entry) => entry.name === name);
      if (depth > 0) stack.length = depth;
      else top().append(whole);
      continue;
    }
    const el = elementFor(name, attributes(rawAttrs || ""));
    if (el === null) {
      top().append(whole);
      continue;
    }
    top().append(el);
    stack.push({ name, el });
  }
  if (last < html.length) top().append(decodeEntities(html.slice(last)));
  return root;
}

function messageBody(event) {
  const body = document.createElement("div");
  body.className = "text";
  const isHTML = (event.parse_mode || "").toLowerCase() === "html";
  body.append(isHTML ? renderTelegramHTML(event.html || "") : (event.text || ""));
  return body;
}

// -- messages -------------------------------------------------------------------------------------------------
function timeOf(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function previewCard(preview) {
  const card = document.createElement("a");
  card.className = "preview" + (preview.prefer_small_media ? " small" : "");
  card.href = preview.url;
  card.target = "_blank";
  card.rel = "noopener noreferrer";
  const site = document.createElement("span");
  site.className = "site";
  site.textContent = preview.site_name || "";
  const title = document.createElement("strong");
  title.textContent = preview.title || "";
  const description = document.createElement("span");
  description.className = "description";
  description.textContent = preview.description || "";
  card.append(site, title, description);
  if (preview.image) {
    const img = document.createElement("img");
    img.src = preview.image;
    img.alt = "";
    card.append(img);
  }
  return card;
}

function bubble(event) {
  const li = document.createElement("li");
  const mine = event.event === "user_message";
  li.className = "message " + (mine ? "outgoing" : "incoming") + (event.pinned ? " pinned" : "");
  li.dataset.messageId = event.message_id;
  if (mine) {
    const text = document.createElement("div");
    text.className = "text";
    text.textContent = event.text;
    li.append(text);
  } else {
    if (event.kind === "photo" && event.photo && event.photo.startsWith(location.origin)) {
      const img = document.createElement("img");
      img.className = "photo";
      img.src = event.photo;
      img.alt = "Photo";
      li.append(img);
    }
    const body = messageBody(event);
    const card = event.preview ? previewCard(event.preview) : null;
    if (card && event.preview.show_above_text) li.append(card, body);
    else li.append(body, ...(card ? [card] : []));
  }
  if (mine && event.first_name && event.identity === "editors") li.prepend(authorLine(event.first_name));
  const keyboard = event.reply_markup && event.reply_markup.inline_keyboard;
  if (!mine && Array.isArray(keyboard)) li.append(keyboardFor(event, keyboard));
  const meta = document.createElement("span");
  meta.className = "time";
  meta.textContent = (event.edit_date ? "edited " : "") + timeOf(event.edit_date || event.date);
  li.append(meta);
  if (event.where === "chat" && !mine) li.append(replyButton(event));
  return li;
}

function authorLine(name) {
  const who = document.createElement("div");
  who.className = "author";
  who.textContent = name;
  return who;
}

// Inline buttons: callback buttons are pressed as the chat's identity; URL buttons open their link.
function keyboardFor(event, rows) {
  const box = document.createElement("div");
  box.className = "keyboard";
  box.setAttribute("role", "group");
  box.setAttribute("aria-label", "Message buttons");
  for (const row of rows) {
    const line = document.createElement("div");
    line.className = "keyboard-row";
    for (const button of row) {
      if (button.url) {
        const link = document.createElement("a");
        link.className = "key";
        link.textContent = button.text;
        link.href = safeHref(button.url);
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        line.append(link);
        continue;
      }
      const key = document.createElement("button");
      key.type = "button";
      key.className = "key";
      key.textContent = button.text;
      key.addEventListener("click", () => press(event, button.text));
      line.append(key);
    }
    box.append(line);
  }
  return box;
}

function replyButton(event) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "reply";
  button.textContent = "↩ Reply";
  button.setAttribute("aria-label", "Reply to this message");
  button.addEventListener("click", () => {
    state.replyTo = { identity: event.identity, messageId: event.message_id };
    $("reply-note").hidden = false;
    $("reply-text").textContent = `Replying to: ${(event.text || "").slice(0, 60)}`;
    $("chat-input").focus();
  });
  return button;
}

function clearReply() {
  state.replyTo = null;
  $("reply-note").hidden = true;
}

async function press(event, label) {
  $("chat-error").textContent = "";
  try {
    await post("/api/press", { identity: event.identity, message_id: event.message_id, button: label });
  } catch (error) {
    $("chat-error").textContent = error.message;
  }
}

function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(state.toastTimer);
  state.toastTimer = setTimeout(() => { box.hidden = true; }, 4000);
}

function listFor(event) {
  if (event.where === "channel") return $("channel-posts");
  return $(CHAT_LISTS[event.identity] || "chat-reader");
}

function nearBottom(scroller) {
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 120;
}

function apply(event) {
  if (event.event === "api_error") return logFault(`${event.method} → ${event.status} ${event.description}`, "error");
  if (event.where === "toast") return toast(event.text);
  if (!event.where) return;
  const key = `${event.chat_id}:${event.message_id}`;
  if (event.event === "message_pinned" || event.event === "message_unpinned") {
    const pinned = state.messages.get(key);
    if (pinned) pinned.classList.toggle("pinned", event.pinned);
    return;
  }
  const old = state.messages.get(key);
  const list = listFor(event);
  const scroller = list.closest(".scroll");
  const stick = nearBottom(scroller);
  if (event.event === "message_deleted" || event.deleted) {
    if (old) old.remove();
    state.messages.delete(key);
  } else {
    const version = event.edit_date || event.date || 0;
    if (old && Number(old.dataset.version) > version) return; // a snapshot older than an edit already shown
    const li = bubble(event);
    li.dataset.version = version;
    if (old) old.replaceWith(li);
    else insertInOrder(list, li, event.message_id);
    state.messages.set(key, li);
  }
  if (event.where === "channel") updateChannelMeta();
  if (stick || event.event === "user_message") scroller.scrollTop = scroller.scrollHeight;
}

function insertInOrder(list, li, messageId) {
  let next = null;
  for (const other of list.children) {
    if (Number(other.dataset.messageId) > messageId) { next = other; break; }
  }
  list.insertBefore(li, next);
}

function updateChannelMeta() {
  const count = $("channel-posts").children.length;
  $("channel-empty").hidden = count > 0;
  $("channel-meta").textContent = `${state.channelName} · ${count} post${count === 1 ? "" : "s"}`;
}

async function loadState() {
  const response = await fetch("/api/state", { cache: "no-store" });
  const snapshot = await response.json();
  state.channelId = snapshot.channel.id;
  state.channelName = snapshot.channel.username ? "@" + snapshot.channel.username : "channel";
  $("channel-title").textContent = snapshot.channel.title;
  $("chat-meta").textContent = "@" + snapshot.bot.username;
  state.identities = snapshot.identities;
  setIdentity(state.identity);
  for (const event of snapshot.messages) apply(event);
  updateChannelMeta();
  showFaults(snapshot.faults);
  showSites(snapshot.sites);
  for (const scroller of document.querySelectorAll(".scroll")) scroller.scrollTop = scroller.scrollHeight;
}

// -- chat -----------------------------------------------------------------------------------------------------
async function post(path, body) {
  const response = await fetch(path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

async function send(text) {
  $("chat-error").textContent = "";
  try {
    const reply = state.replyTo && state.replyTo.identity === state.identity ? state.replyTo.messageId : null;
    await post("/api/send", { identity: state.identity, text, reply_to: reply, language: $("language").value });
    clearReply();
  } catch (error) {
    $("chat-error").textContent = error.message;
  }
}

// Inline mode: what a reader's client lists for "@bot words" (text nodes only: titles are feed text)
async function inlineQuery(text) {
  const list = $("inline-results");
  list.replaceChildren();
  try {
    const answer = await post("/api/inline", { text });
    if (!answer.results.length) {
      const empty = document.createElement("li");
      empty.textContent = "No results";
      list.append(empty);
    }
    for (const result of answer.results) {
      const item = document.createElement("li");
      const title = document.createElement("a");
      title.textContent = result.title;
      title.href = result.url;
      title.target = "_blank";
      title.rel = "noopener noreferrer";
      item.append(title);
      if (result.description) {
        const description = document.createElement("p");
        description.textContent = result.description;
        item.append(description);
      }
      list.append(item);
    }
  } catch (error) {
    const failed = document.createElement("li");
    failed.textContent = error.message;
    list.append(failed);
  }
  list.hidden = false;
}

function setIdentity(identity) {
  state.identity = identity;
  for (const [key, list] of Object.entries(CHAT_LISTS)) {
    $(list).hidden = key !== identity;
    $(`suggest-${key}`).hidden = key !== identity;
  }
  if (state.replyTo && state.replyTo.identity !== identity) clearReply();
  const places = { editors: "an editor in the editors' group", group: "the owner of a readers' group" };
  const who = places[identity] || state.identities?.[identity]?.first_name || identity;
  const example = { admin: "/review on", editors: "a reply to a tip", reader: "/latest", group: "/subscribe climate" }[identity];
  $("chat-input").placeholder = `Write as ${who}, e.g. ${example}`;
  $("chat-scroll").scrollTop = $("chat-scroll").scrollHeight;
}

// -- faults and status ----------------------------------------------------------------------------------------
function logFault(text, kind) {
  const li = document.createElement("li");
  li.className = kind;
  li.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  const log = $("fault-log");
  log.prepend(li);
  while (log.children.length > 30) log.lastChild.remove();
}

function showFaults(faults) {
  $("fault-outage").setAttribute("aria-pressed", String(faults.outage));
  $("fault-outage").textContent = faults.outage ? "End outage" : "Outage";
  state.kicked = faults.bot_status !== "administrator";
  $("fault-kick").setAttribute("aria-pressed", String(state.kicked));
  $("fault-kick").textContent = state.kicked ? "Add bot back to channel" : "Remove bot from channel";
}

function describeStatus(status) {
  const parts = [`${status.channel_posts} posts in the channel`];
  const bot = status.bot;
  if (bot) {
    const outbox = bot.outbox;
    const waiting = (outbox.queued || 0) + (outbox.sending || 0);
    parts.push(`outbox: ${waiting} waiting, ${outbox.sent || 0} sent` + (outbox.failed ? `, ${outbox.failed} failed` : ""));
    parts.push(`${bot.articles} articles from ${bot.feeds} feeds`);
    if (bot.paused) parts.push(`posting PAUSED${bot.paused_reason ? ": " + bot.paused_reason : ""}`);
  }
  if (status.faults.outage) parts.push("Telegram: OUTAGE (502)");
  else if (status.faults.bot_status !== "administrator") parts.push("bot removed from the channel");
  else if (status.faults.flood_pending) parts.push(`flood: next ${status.faults.flood_pending} calls get 429`);
  else parts.push("Telegram: OK");
  return parts.join(" · ");
}

// -- the sample sites: push, ping or poll ----------------------------------------------------------------------
function showSites(sites) {
  const list = $("sites");
  for (const site of sites || []) {
    let li = list.querySelector(`li[data-site="${site.key}"]`);
    if (!li) {
      li = document.createElement("li");
      li.dataset.site = site.key;
      const badge = document.createElement("span");
      badge.className = `badge ${site.delivery}`;
      badge.textContent = site.delivery;
      const name = document.createElement("strong");
      name.textContent = site.name;
      const how = document.createElement("span");
      how.className = "how";
      how.textContent = ` ${site.how}`;
      const count = document.createElement("span");
      count.className = "count";
      li.append(badge, " ", name, how, count);
      list.append(li);
    }
    const count = li.querySelector(".count");
    const sent = site.delivery === "push" ? "hub told" : "pings sent";
    const text = site.delivery === "poll" ? "" : ` · ${sent}: ${site.sent}` + (site.failed ? `, failed: ${site.failed}` : "");
    if (count.textContent !== text) count.textContent = text;
  }
}

async function refreshStatus() {
  try {
    const response = await fetch("/api/status", { cache: "no-store" });
    const status = await response.json();
    const text = describeStatus(status);
    if ($("status").textContent !== text) $("status").textContent = text;
    showFaults(status.faults);
    showSites(status.sites);
  } catch {
    $("status").textContent = "The sandbox is not answering. Is `newsbot sandbox` still running?";
  }
}

async function fault(action) {
  try {
    const result = await post("/api/fault", { action });
    logFault(result.message, "action");
    showFaults(result.faults);
    refreshStatus();
  } catch (error) {
    logFault(error.message, "error");
  }
}

// -- wiring ---------------------------------------------------------------------------------------------------
function connect() {
  const source = new EventSource("/api/events");
  source.onopen = () => loadState().catch(() => {});
  source.onmessage = (message) => apply(JSON.parse(message.data));
}

// A deep link to this bot (t.me/<bot>?start=<payload>) opens the bot's chat and sends /start <payload>,
// as a Telegram client does; in the sandbox it is sent as the identity writing now.
const DEEP_LINK = /^https:\/\/t\.me\/[A-Za-z0-9_]{5,32}\?start=([A-Za-z0-9_-]{1,64})$/;
document.addEventListener("click", (event) => {
  const link = event.target instanceof Element ? event.target.closest("a[href]") : null;
  const match = link && DEEP_LINK.exec(link.href);
  if (!match) return;
  event.preventDefault();
  send(`/start ${match[1]}`);
});

document.addEventListener("DOMContentLoaded", () => {
  $("chat-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("chat-input").value.trim();
    if (!text) return;
    $("chat-input").value = "";
    send(text);
  });
  $("inline-form").addEventListener("submit", (e) => {
    e.preventDefault();
    inlineQuery($("inline-input").value.trim());
  });
  for (const button of document.querySelectorAll("[data-command]")) {
    button.addEventListener("click", () => send(button.dataset.command));
  }
  for (const radio of document.querySelectorAll('input[name="identity"]')) {
    radio.addEventListener("change", () => setIdentity(radio.value));
  }
  $("reply-cancel").addEventListener("click", clearReply);
  $("fault-flood").addEventListener("click", () => fault("flood"));
  $("fault-outage").addEventListener("click", () => fault("outage"));
  $("fault-kick").addEventListener("click", () => fault(state.kicked ? "restore" : "kick"));
  setIdentity(document.querySelector('input[name="identity"]:checked').value);
  connect();
  refreshStatus();
  setInterval(refreshStatus, 2000);
});
