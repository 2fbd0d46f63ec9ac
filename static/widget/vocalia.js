/*! Vocalia widget v1 — one file, no framework, no third-party requests. Rendered in a Shadow DOM. */
(function (window, document) {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-vocalia-key]");
  if (!script || window.__vocaliaLoaded) return;
  window.__vocaliaLoaded = true;

  var KEY = script.getAttribute("data-vocalia-key") || "";
  var API = (script.getAttribute("data-vocalia-api") || new URL(script.src, location.href).origin) + "/widget/v1/";
  var NONCE = script.nonce || script.getAttribute("nonce") || "";
  var STORE = "vocalia:" + KEY;
  var RTL = { ar: 1, ary: 1 };
  var T = {
    fr: { open: "Discuter avec nous", close: "Fermer", send: "Envoyer", placeholder: "Votre message…", title: "Assistant", booked: "Rendez-vous confirmé", ref: "Référence", lead: "Demande transmise", error: "Le service ne répond pas. Réessayez.", mic: "Parler", human: "Un membre de l'équipe va prendre le relais", retry: "Nouvelle conversation", hangup: "Raccrocher", listening: "Je vous écoute…", speaking: "L'assistant parle…" },
    en: { open: "Chat with us", close: "Close", send: "Send", placeholder: "Your message…", title: "Assistant", booked: "Appointment confirmed", ref: "Reference", lead: "Request sent", error: "The service is not answering. Try again.", mic: "Speak", human: "A team member will take over", retry: "New conversation", hangup: "Hang up", listening: "Listening…", speaking: "The assistant is speaking…" },
    es: { open: "Hable con nosotros", close: "Cerrar", send: "Enviar", placeholder: "Su mensaje…", title: "Asistente", booked: "Cita confirmada", ref: "Referencia", lead: "Solicitud enviada", error: "El servicio no responde. Inténtelo de nuevo.", mic: "Hablar", human: "Un miembro del equipo le atenderá", retry: "Nueva conversación", hangup: "Colgar", listening: "Le escucho…", speaking: "El asistente está hablando…" },
    ar: { open: "تحدث معنا", close: "إغلاق", send: "إرسال", placeholder: "رسالتك…", title: "المساعد", booked: "تم تأكيد الموعد", ref: "المرجع", lead: "تم إرسال طلبك", error: "الخدمة لا تستجيب. حاول مرة أخرى.", mic: "تحدث", human: "سيتولى أحد أعضاء الفريق المحادثة", retry: "محادثة جديدة", hangup: "إنهاء المكالمة", listening: "أستمع إليك…", speaking: "المساعد يتحدث…" },
    ary: { open: "هضر معانا", close: "سدّ", send: "صيفط", placeholder: "الرسالة ديالك…", title: "المساعد", booked: "الموعد تأكد", ref: "المرجع", lead: "الطلب ديالك تصيفط", error: "الخدمة ما كتجاوبش. عاود جرب.", mic: "هضر", human: "شي واحد من الفريق غادي يكمل معاك", retry: "محادثة جديدة", hangup: "سدّ المكالمة", listening: "كنسمع ليك…", speaking: "المساعد كيهضر…" }
  };

  var state = { config: null, open: false, language: null, token: null, conversation: null, busy: false,
                identity: {}, context: {}, host: null, root: null, els: {}, lastId: 0, human: false, poller: null };
  var POLL_HUMAN_MS = 3000, POLL_IDLE_MS = 15000;
  var listenersBound = false;

  function emit(name, detail) {
    try { window.dispatchEvent(new CustomEvent("vocalia:" + name, { detail: detail || {} })); } catch (e) { /* old browsers */ }
  }
  function fail(message, code) {
    if (window.console) console.error("[Vocalia] " + message + (code ? " (" + code + ")" : ""));
    emit("error", { message: message, code: code || "" });
  }
  function t(key) { return (T[state.language] || T.en)[key]; }
  function locale() { return state.language === "ary" ? "ar-MA" : state.language; }  // BCP 47 for the browser

  function load() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(STORE) || "null");
      if (saved && saved.expires > Date.now()) return saved;
    } catch (e) { /* storage blocked */ }
    return null;
  }
  function save() {
    try {
      if (state.token) {
        window.localStorage.setItem(STORE, JSON.stringify({ token: state.token, conversation: state.conversation,
          language: state.language, expires: Date.now() + 23 * 3600 * 1000 }));
      } else window.localStorage.removeItem(STORE);
    } catch (e) { /* storage blocked */ }
  }

  function request(method, path, body, accept) {
    var headers = { "X-Vocalia-Key": KEY, "Accept": accept || "application/json" };
    if (body) headers["Content-Type"] = "application/json";
    if (state.token) headers["X-Vocalia-Token"] = state.token;
    return fetch(API + path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined,
                               credentials: "omit", mode: "cors" })
      .then(function (response) {
        if (response.ok) return response;
        return response.json().catch(function () { return {}; }).then(function (data) {
          var error = new Error((data.error && data.error.message) || ("HTTP " + response.status));
          error.code = (data.error && data.error.code) || String(response.status);
          error.status = response.status;
          throw error;
        });
      });
  }

  function pickLanguage(preferred) {
    var offered = (state.config && state.config.languages) || ["fr"];
    var candidates = [preferred, script.getAttribute("data-lang"), document.documentElement.lang]
      .concat(navigator.languages || [navigator.language]);
    for (var i = 0; i < candidates.length; i++) {
      var code = String(candidates[i] || "").toLowerCase();
      if (!code) continue;
      if (offered.indexOf(code) >= 0) return code;
      var base = code.split("-")[0];
      if (code === "ar-ma" && offered.indexOf("ary") >= 0) return "ary";
      if (offered.indexOf(base) >= 0) return base;
    }
    return state.config.default_language;
  }

  var CSS = ":host{all:initial;--vocalia-primary:#4f46e5;--vocalia-font:system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans Arabic',sans-serif;--vocalia-z-index:2147483000}" +
    ".w{position:fixed;inset-block-end:20px;inset-inline-end:20px;z-index:var(--vocalia-z-index);font-family:var(--vocalia-font);font-size:15px;line-height:1.45;color:#111827}" +
    ".w.start{inset-inline-end:auto;inset-inline-start:20px}" +
    ".launch{display:flex;align-items:center;gap:8px;border:0;border-radius:999px;padding:12px 18px;background:var(--vocalia-primary);color:#fff;font:inherit;font-weight:600;cursor:pointer;box-shadow:0 6px 24px rgba(0,0,0,.18)}" +
    ".launch:focus-visible,button:focus-visible,textarea:focus-visible{outline:3px solid #a5b4fc;outline-offset:2px}" +
    ".panel{display:none;flex-direction:column;inline-size:min(370px,calc(100vw - 24px));block-size:min(560px,calc(100vh - 90px));background:#fff;border-radius:16px;box-shadow:0 12px 40px rgba(0,0,0,.22);overflow:hidden;margin-block-end:12px}" +
    ".open .panel{display:flex}.open .launch{display:none}" +
    ".head{display:flex;align-items:center;gap:10px;padding:12px 14px;background:var(--vocalia-primary);color:#fff}" +
    ".head img{inline-size:32px;block-size:32px;border-radius:50%}.head strong{flex:1}" +
    ".x{background:transparent;border:0;color:#fff;font-size:20px;cursor:pointer;padding:4px 8px}" +
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f7f7fb}" +
    ".m{max-inline-size:85%;padding:8px 12px;border-radius:14px;white-space:pre-wrap;word-wrap:break-word}" +
    ".m.u{align-self:flex-end;background:var(--vocalia-primary);color:#fff}.m.a{align-self:flex-start;background:#fff;border:1px solid #e5e7eb}" +
    ".m.s{align-self:center;background:transparent;color:#6b7280;font-size:13px;text-align:center}" +
    ".m.h{align-self:flex-start;background:#fdf2f8;border:1px solid #fbcfe8}.m.h b{display:block;font-size:12px;opacity:.75}" +
    ".card{align-self:stretch;border:1px solid #c7d2fe;background:#eef2ff;border-radius:12px;padding:10px 12px}" +
    ".card b{display:block}" +
    ".status{padding:0 12px;font-size:13px;color:#6b7280;background:#f7f7fb;min-block-size:0}.status:not(:empty){padding-block:4px}" +
    ".mic[aria-pressed=true]{animation:vp 1.4s ease-in-out infinite}@keyframes vp{50%{box-shadow:0 0 0 6px rgba(239,68,68,.25)}}" +
    "@media (prefers-reduced-motion:reduce){.mic[aria-pressed=true]{animation:none}}" +
    "form{display:flex;gap:6px;padding:10px;border-block-start:1px solid #e5e7eb;background:#fff}" +
    "textarea{flex:1;resize:none;border:1px solid #d1d5db;border-radius:10px;padding:8px 10px;font:inherit;min-block-size:40px;max-block-size:120px}" +
    ".send,.mic{border:0;border-radius:10px;padding:0 14px;background:var(--vocalia-primary);color:#fff;font:inherit;cursor:pointer}" +
    ".mic{background:#e5e7eb;color:#111827}.mic[aria-pressed=true]{background:#fecaca}" +
    "button[disabled]{opacity:.6;cursor:default}" +
    ".typing::after{content:'…';animation:b 1s infinite}@keyframes b{50%{opacity:.2}}" +
    "@media (prefers-reduced-motion:reduce){.typing::after{animation:none}}";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var name in attrs || {}) node.setAttribute(name, attrs[name]);
    if (text != null) node.textContent = text;
    return node;
  }

  function render() {
    var host = el("div", { id: "vocalia-widget" });
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    if (root.adoptedStyleSheets !== undefined && window.CSSStyleSheet && CSSStyleSheet.prototype.replaceSync) {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } else {
      var style = el("style", NONCE ? { nonce: NONCE } : {}, CSS);
      root.appendChild(style);
    }
    var wrap = el("div", { "class": "w", part: "widget" });
    var panel = el("section", { "class": "panel", role: "dialog", "aria-modal": "false" });
    var head = el("div", { "class": "head" });
    var title = el("strong", { id: "vocalia-title" });
    panel.setAttribute("aria-labelledby", "vocalia-title");
    var close = el("button", { "class": "x", type: "button" }, "×");
    var log = el("div", { "class": "log", role: "log", "aria-live": "polite" });
    var status = el("div", { "class": "status", role: "status", "aria-live": "polite" });
    var form = el("form");
    var input = el("textarea", { rows: "1", maxlength: "4000" });
    var mic = el("button", { "class": "mic", type: "button", "aria-pressed": "false" });
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24"); svg.setAttribute("width", "18"); svg.setAttribute("height", "18");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", "M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.9V21h2v-3.1A7 7 0 0 0 19 11z");
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path); mic.appendChild(svg);
    var send = el("button", { "class": "send", type: "submit" });
    var launch = el("button", { "class": "launch", type: "button", "aria-expanded": "false" });
    head.appendChild(title); head.appendChild(close);
    form.appendChild(input);
    if ((state.config.features.voice && window.WebSocket) || window.SpeechRecognition || window.webkitSpeechRecognition) {
      form.appendChild(mic);
    }
    form.appendChild(send);
    panel.appendChild(head); panel.appendChild(log); panel.appendChild(status); panel.appendChild(form);
    wrap.appendChild(panel); wrap.appendChild(launch);
    root.appendChild(wrap);
    state.host = host; state.root = root;
    state.els = { wrap: wrap, panel: panel, title: title, close: close, log: log, form: form, input: input, send: send,
                  launch: launch, mic: mic, head: head, status: status };
    launch.addEventListener("click", function () { api.open(); });
    close.addEventListener("click", function () { api.close(); });
    form.addEventListener("submit", function (event) { event.preventDefault(); submit(); });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); submit(); }
    });
    wrap.addEventListener("keydown", function (event) { if (event.key === "Escape" && state.open) api.close(); });
    mic.addEventListener("click", listen);
    document.body.appendChild(host);
  }

  function applyTheme() {
    var c = state.config, els = state.els;
    state.host.style.setProperty("--vocalia-primary", c.theme.color);
    els.wrap.className = "w" + (c.theme.position === "start" ? " start" : "") + (state.open ? " open" : "");
    els.wrap.setAttribute("dir", RTL[state.language] ? "rtl" : "ltr");
    els.wrap.setAttribute("lang", state.language);
    els.title.textContent = c.client.name;
    if (c.theme.avatar && !els.head.querySelector("img")) {
      els.head.insertBefore(el("img", { src: c.theme.avatar, alt: "" }), els.title);
    }
    els.launch.textContent = (c.launcher && c.launcher[state.language]) || t("open");
    els.close.setAttribute("aria-label", t("close"));
    els.send.textContent = t("send");
    els.mic.setAttribute("aria-label", t("mic"));
    els.input.setAttribute("placeholder", t("placeholder"));
    els.input.setAttribute("aria-label", t("placeholder"));
  }

  function bubble(kind, text) {
    var node = el("div", { "class": "m " + kind }, text);
    node.setAttribute("dir", "auto");
    state.els.log.appendChild(node);
    state.els.log.scrollTop = state.els.log.scrollHeight;
    return node;
  }

  function card(title, lines) {
    var node = el("div", { "class": "card", role: "status" });
    node.appendChild(el("b", {}, title));
    lines.forEach(function (line) { if (line) node.appendChild(el("div", { dir: "auto" }, line)); });
    state.els.log.appendChild(node);
    state.els.log.scrollTop = state.els.log.scrollHeight;
  }

  // In the client's zone (the hour the agent said) with its clock and digits; the zone named when the visitor's differs
  function when(iso, zone) {
    var en = state.language === "en", named = "", options = { weekday: "long", day: "numeric", month: "long",
      hour: en ? "numeric" : "2-digit", minute: "2-digit", hourCycle: en ? "h12" : "h23", numberingSystem: "latn" };
    if (zone) {
      options.timeZone = zone;
      if (zone !== Intl.DateTimeFormat().resolvedOptions().timeZone) { options.timeZoneName = "shortGeneric"; named = zone; }
    }
    try { return new Intl.DateTimeFormat(locale(), options).format(new Date(iso)); } catch (e) { /* no shortGeneric */ }
    delete options.timeZoneName;
    try { return new Intl.DateTimeFormat(locale(), options).format(new Date(iso)) + (named && " (" + named + ")"); }
    catch (e) { return iso; }
  }

  function humanBubble(m) {
    var node = bubble("h", "");
    if (m.name) node.appendChild(el("b", { dir: "auto" }, m.name));
    node.appendChild(document.createTextNode(m.text));
    return node;
  }

  function show(m) {  // a stored message, as the visitor sees it
    if (m.id > state.lastId) state.lastId = m.id;
    if (m.role === "member") { humanBubble(m); emit("message", { role: "member", text: m.text }); }
    else if (m.role === "notice") bubble("s", m.text);
    else bubble(m.role === "user" ? "u" : "a", m.text);
  }

  // While a person of the team answers, their replies arrive by polling (every 3 s; every 15 s otherwise).
  function schedulePoll(ms) {
    clearTimeout(state.poller);
    if (!state.token) return;
    state.poller = setTimeout(poll, ms != null ? ms : (state.human ? POLL_HUMAN_MS : POLL_IDLE_MS));
  }
  function poll() {
    if (!state.token) return;
    if (document.hidden) return schedulePoll();
    request("GET", "updates?after=" + state.lastId).then(function (r) { return r.json(); }).then(function (data) {
      data.messages.forEach(function (m) { show(m); if (m.role === "member") speakMember(m); });
      state.human = !!data.human;
      if (data.ended) { state.token = null; save(); }
    }).catch(function () { /* try again later */ }).then(function () { schedulePoll(); });
  }
  function speakMember(m) {  // on a voice session, the team's reply is heard in the agent's voice, not only read
    var v = state.voice;
    if (v && v.ws.readyState === 1) v.ws.send(JSON.stringify({ type: "say", message: m.id }));
  }

  function startConversation() {
    return request("POST", "conversations", { language: state.language, visitor: state.identity.id || "",
                                              page: location.href, context: state.context })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        state.token = data.token; state.conversation = data.conversation; state.language = data.language;
        state.lastId = 0; state.human = false;
        save();  // the server keeps the greeting as the conversation's first message: a reload shows it again
        schedulePoll();
      });
  }

  function greet() {  // shown at once, first, before the visitor types: no conversation is started for it
    var greeting = state.config && state.config.greeting[state.language];
    if (greeting && !state.token && state.els.log && !state.els.log.firstChild) bubble("a", greeting);
  }

  function restore() {
    return request("GET", "history").then(function (r) { return r.json(); }).then(function (data) {
      state.els.log.textContent = "";
      state.lastId = 0;
      data.messages.forEach(show);
      state.human = !!data.human;
      if (data.ended) { state.token = null; save(); } else schedulePoll();
    }).catch(function () { state.token = null; save(); });
  }

  function handle(type, data, target) {
    if (type === "delta") { target.node.classList.remove("typing"); target.text += data.text; target.node.textContent = target.text; }
    else if (type === "booking") {
      card(t("booked"), [data.name, when(data.start, data.timezone), t("ref") + " " + data.reference]);
      emit("booking", data);
    } else if (type === "lead") { card(t("lead"), []); emit("lead", data); }
    else if (type === "handover") bubble("s", t("human"));
    else if (type === "human") { state.human = true; schedulePoll(500); }
    else if (type === "end") { state.token = null; save(); }
    else if (type === "done") {
      if (!target.text && data.text) { target.node.textContent = data.text; }
      target.node.classList.remove("typing");
      if (!target.text && !data.text) { target.node.remove(); return; }  // a person answers: the agent is silent
      emit("message", { role: "assistant", text: data.text || target.text });
    } else if (type === "error") throw Object.assign(new Error(data.message), { code: data.code });
    state.els.log.scrollTop = state.els.log.scrollHeight;
  }

  function stream(text) {
    var target = { text: "", node: bubble("a", "") };
    target.node.classList.add("typing");
    return request("POST", "messages", { text: text }, "text/event-stream").then(function (response) {
      if (!response.body || !response.body.getReader) {
        return response.text().then(function (all) { parse(all, target); });
      }
      var reader = response.body.getReader(), decoder = new TextDecoder(), buffer = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) { parse(buffer, target); return; }
          buffer += decoder.decode(chunk.value, { stream: true });
          var cut = buffer.lastIndexOf("\n\n");
          if (cut >= 0) { parse(buffer.slice(0, cut + 2), target); buffer = buffer.slice(cut + 2); }
          return pump();
        });
      }
      return pump();
    }).catch(function (error) { target.node.remove(); throw error; });
  }

  function parse(text, target) {
    text.split("\n\n").forEach(function (block) {
      var type = "message", data = "";
      block.split("\n").forEach(function (line) {
        if (line.indexOf("event: ") === 0) type = line.slice(7);
        else if (line.indexOf("data: ") === 0) data += line.slice(6);
      });
      if (data) handle(type, JSON.parse(data), target);
    });
  }

  function submit(text) {
    var value = (text != null ? String(text) : state.els.input.value).trim();
    if (!value || state.busy) return Promise.resolve();
    state.busy = true;
    state.els.send.disabled = true;
    state.els.input.value = "";
    bubble("u", value);
    emit("message", { role: "user", text: value });
    var ready = state.token ? Promise.resolve() : startConversation();
    return ready.then(function () { return stream(value); }).catch(function (error) {
      if (error.status === 401) { state.token = null; save(); return startConversation().then(function () { return stream(value); }); }
      throw error;
    }).catch(function (error) {
      bubble("s", t("error"));
      fail(error.message, error.code);
    }).then(function () {
      state.busy = false;
      state.els.send.disabled = false;
      if (state.open) state.els.input.focus();
    });
  }

  // --- voice: the server's (WebSocket, PCM16 both ways, barge-in) when the plan has it, else the browser's ---
  var AudioCtx = window.AudioContext || window.webkitAudioContext;
  var Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;
  var VOICE_RATE = 16000;

  function voiceState(name) {
    if (state.voiceState === name) return;  // one event per change, not per audio frame
    state.voiceState = name;
    var els = state.els;
    els.mic.setAttribute("aria-pressed", name === "idle" ? "false" : "true");
    els.mic.setAttribute("aria-label", t(name === "idle" ? "mic" : "hangup"));
    els.status.textContent = name === "listening" || name === "speaking" ? t(name) : "";
    emit("voice", { state: name });
  }

  function listen() {
    if (state.voice) return voiceStop();
    var f = state.config.features;
    if (f.voice && AudioCtx && window.WebSocket && navigator.mediaDevices) return voiceStart();
    if (!Recognition) return fail("voice is not available in this browser", "voice_unavailable");
    var recognition = new Recognition();
    recognition.lang = locale();
    state.els.mic.setAttribute("aria-pressed", "true");
    recognition.onresult = function (event) {
      submit(event.results[0][0].transcript).then(function () { speakLast(); });
    };
    recognition.onend = function () { state.els.mic.setAttribute("aria-pressed", "false"); };
    recognition.start();
  }

  function speakLast() {  // browser fallback: read the last reply aloud with the browser's own voice
    var bubbles = state.els.log.querySelectorAll(".m.a");
    var last = bubbles[bubbles.length - 1];
    if (!last || !window.speechSynthesis) return;
    var utterance = new SpeechSynthesisUtterance(last.textContent);
    utterance.lang = locale();
    window.speechSynthesis.speak(utterance);
  }

  function voiceStart() {
    var url = API.replace(/^http/, "ws").replace(/\/widget\/v1\/$/, "/ws/widget/v1/voice/") + "?key=" + encodeURIComponent(KEY);
    var v = state.voice = { ws: new WebSocket(url), ctx: new AudioCtx(), rate: 22050, playhead: 0, sources: [], target: null };
    v.ws.binaryType = "arraybuffer";
    voiceState("connecting");
    v.ws.onopen = function () {
      v.ws.send(JSON.stringify({ type: "start", token: state.token, language: state.language, sample_rate: VOICE_RATE,
                                 visitor: state.identity.id || "", page: location.href, context: state.context }));
    };
    v.ws.onmessage = function (event) {
      if (typeof event.data !== "string") return play(v, new Int16Array(event.data));
      var m = JSON.parse(event.data);
      if (m.type === "ready") {
        state.token = m.token; state.conversation = m.conversation; save(); schedulePoll();
        if (m.recognition) capture(v); else browserEars(v);
        voiceState("listening");
      } else if (m.type === "transcript") {
        if (m.text) { bubble("u", m.text); emit("message", { role: "user", text: m.text }); }
      } else if (m.type === "speech") { v.rate = m.rate; }
      else if (m.type === "clear") { hush(v); voiceState("listening"); }
      else if (m.type === "error") fail(m.message, m.code);
      else if (m.type !== "speech_started") {
        if (!v.target) v.target = { text: "", node: bubble("a", "") };
        handle(m.type, m, v.target);
        if (m.type === "done") v.target = null;
      }
    };
    v.ws.onclose = function (event) {
      if (event.code >= 4400) fail(event.reason || "voice session closed (" + event.code + ")", String(event.code));
      if (state.voice === v) voiceStop();
    };
  }

  function capture(v) {
    // Echo cancellation keeps the agent's own voice from barging in; noise suppression clipped word endings
    // (measured with Chromium's fake microphone), so it is off.
    navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: false, autoGainControl: false, channelCount: 1 } })
      .then(function (stream) {
        if (state.voice !== v) { stream.getTracks().forEach(function (track) { track.stop(); }); return; }
        v.stream = stream;
        var source = v.ctx.createMediaStreamSource(stream);
        var node = v.ctx.createScriptProcessor(4096, 1, 1);  // no worklet module: works under a strict CSP
        var ratio = v.ctx.sampleRate / VOICE_RATE;
        node.onaudioprocess = function (event) {
          var input = event.inputBuffer.getChannelData(0), count = Math.floor(input.length / ratio);
          var out = new Int16Array(count);
          for (var i = 0; i < count; i++) {  // average each window: a cheap anti-alias filter
            var sum = 0, from = Math.floor(i * ratio), to = Math.floor((i + 1) * ratio);
            for (var j = from; j < to; j++) sum += input[j];
            out[i] = Math.max(-1, Math.min(1, sum / (to - from))) * 32767;
          }
          if (v.ws.readyState === 1) v.ws.send(out.buffer);
        };
        source.connect(node); node.connect(v.ctx.destination);
        v.node = node;
      }).catch(function (error) { fail("microphone: " + error.message, "microphone_denied"); voiceStop(); });
  }

  function browserEars(v) {  // the server cannot recognise this language: the browser listens, the server speaks
    if (!Recognition) { fail("speech recognition is not available in this language", "voice_unavailable"); return voiceStop(); }
    var recognition = v.recognition = new Recognition();
    recognition.lang = locale();
    recognition.continuous = true;
    recognition.onresult = function (event) {
      var text = event.results[event.results.length - 1][0].transcript;
      hush(v); bubble("u", text); emit("message", { role: "user", text: text });
      v.ws.send(JSON.stringify({ type: "text", text: text }));
    };
    recognition.onend = function () { if (state.voice === v) recognition.start(); };
    recognition.start();
  }

  function play(v, samples) {
    var buffer = v.ctx.createBuffer(1, samples.length, v.rate), channel = buffer.getChannelData(0);
    for (var i = 0; i < samples.length; i++) channel[i] = samples[i] / 32768;
    var source = v.ctx.createBufferSource();
    source.buffer = buffer; source.connect(v.ctx.destination);
    var at = Math.max(v.ctx.currentTime + 0.05, v.playhead);
    source.start(at); v.playhead = at + buffer.duration;
    v.sources.push(source);
    source.onended = function () {
      v.sources.splice(v.sources.indexOf(source), 1);
      if (!v.sources.length && state.voice === v) voiceState("listening");
    };
    voiceState("speaking");
  }

  function hush(v) {
    v.sources.splice(0).forEach(function (source) { try { source.stop(); } catch (e) { /* already ended */ } });
    v.playhead = 0;
  }

  function voiceStop() {
    var v = state.voice;
    if (!v) return;
    state.voice = null;
    hush(v);
    if (v.recognition) { v.recognition.onend = null; v.recognition.stop(); }
    if (v.stream) v.stream.getTracks().forEach(function (track) { track.stop(); });
    if (v.node) v.node.disconnect();
    if (v.ws.readyState < 2) v.ws.close(1000);
    v.ctx.close();
    voiceState("idle");
  }

  var api = {
    open: function () {
      if (!state.els.wrap) return;
      state.open = true; applyTheme();
      state.els.launch.setAttribute("aria-expanded", "true");
      state.els.input.focus();
      emit("opened");
    },
    close: function () {
      if (!state.els.wrap) return;
      state.open = false; applyTheme();
      state.els.launch.setAttribute("aria-expanded", "false");
      state.els.launch.focus();
      emit("closed");
    },
    toggle: function () { state.open ? api.close() : api.open(); },
    setLanguage: function (code) {
      if (!state.config || state.config.languages.indexOf(code) < 0) return fail("language not offered: " + code, "invalid_language");
      if (code !== state.language) { state.language = code; state.token = null; save(); state.els.log.textContent = ""; clearTimeout(state.poller); }
      applyTheme();
      greet();
    },
    identify: function (person) { state.identity = Object.assign({}, state.identity, person || {}); },
    sendContext: function (context) { state.context = Object.assign({}, state.context, context || {}); },
    send: function (text) { return submit(text); },
    shutdown: function () {
      voiceStop();
      clearTimeout(state.poller);
      state.token = null; save();
      if (state.host && state.host.parentNode) state.host.parentNode.removeChild(state.host);
      state.els = {}; state.open = false;
      window.__vocaliaLoaded = false;
    }
  };

  function command(name) {
    var args = Array.prototype.slice.call(arguments, 1);
    if (typeof api[name] !== "function") return fail("unknown command: " + name, "unknown_command");
    if (!state.config && name !== "identify" && name !== "sendContext") { pending.push([name].concat(args)); return; }
    return api[name].apply(null, args);
  }
  var pending = [];
  var queued = (window.Vocalia && window.Vocalia.q) || [];
  window.Vocalia = command;
  for (var name in api) window.Vocalia[name] = api[name];

  function keepAttached() {
    // single-page apps may replace <body> content: put the widget back
    if (listenersBound) return;
    listenersBound = true;
    new MutationObserver(function () {
      if (state.host && !document.body.contains(state.host) && window.__vocaliaLoaded) document.body.appendChild(state.host);
    }).observe(document.body, { childList: true });
  }

  function boot() {
    request("GET", "config").then(function (r) { return r.json(); }).then(function (config) {
      state.config = config;
      var saved = load();
      state.language = pickLanguage(saved && saved.language);
      render();
      applyTheme();
      keepAttached();
      request("POST", "seen", { page: location.href }).catch(function () {});
      for (var i = 0; i < queued.length; i++) command.apply(null, Array.prototype.slice.call(queued[i]));
      var ready = saved && saved.token ? (state.token = saved.token, state.conversation = saved.conversation, restore())
                                        : Promise.resolve();
      return ready.then(function () {
        greet();
        var calls = pending.splice(0);
        calls.forEach(function (call) { command.apply(null, call); });
        emit("ready", { language: state.language });
      });
    }).catch(function (error) { fail(error.message, error.code); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})(window, document);
