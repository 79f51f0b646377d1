// The backcheck chat page. Every word comes from the server (/api/state, /api/turn) and
// is inserted with textContent, never as HTML. No storage but the widget's session id.
(function () {
  "use strict";

  var params = new URLSearchParams(window.location.search);
  var embed = params.get("embed") === "1";
  var askedLang = params.get("lang") || "";
  var SESSION = "backcheck-session";
  var ui = {};
  var lang = "";
  var token = null;      // the token of the newest message with buttons
  var busy = false;
  var lastChoices = [];  // the buttons on offer, to bring back after an error

  function $(id) { return document.getElementById(id); }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  // -- talking to the server --------------------------------------------------------------

  function storedSession() {
    try { return window.sessionStorage.getItem(SESSION); } catch (e) { return null; }
  }

  function storeSession(id) {
    try {
      if (id) { window.sessionStorage.setItem(SESSION, id); }
      else { window.sessionStorage.removeItem(SESSION); }
    } catch (e) { /* storage refused: the session lasts as long as the page */ }
  }

  function request(method, path, body) {
    var headers = { "Accept": "application/json" };
    if (embed) { headers["X-Backcheck-Session"] = storedSession() || "new"; }
    var init = { method: method, headers: headers, credentials: "same-origin" };
    if (body) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (resp) {
      return resp.json().then(function (data) { data.status = resp.status; return data; });
    }).catch(function () { return { offline: true }; });
  }

  function loadState(resync) {
    var query = [];
    if (askedLang) { query.push("lang=" + encodeURIComponent(askedLang)); }
    if (resync) { query.push("resync=1"); }
    setBusy(true);
    return request("GET", "/api/state" + (query.length ? "?" + query.join("&") : ""))
      .then(function (data) { setBusy(false); received(data); });
  }

  function send(body, mine) {
    if (busy) { return; }
    if (mine) { say(mine, "me"); }
    body.lang = lang;
    setBusy(true);
    request("POST", "/api/turn", body).then(function (data) {
      setBusy(false);
      received(data, body.command);
      if (body.text !== undefined) { $("text").focus(); }
    });
  }

  function received(data, command) {
    if (data.offline) {
      say(ui.offline || "…", "error");
      offer(lastChoices);
      return;
    }
    if (data.session !== undefined && embed) { storeSession(data.session); }
    if (data.ui) { applyUi(data.ui, data.lang); }
    if (data.lang) { lang = data.lang; document.documentElement.lang = lang; }
    if (data.error) {
      say(data.message, "error");
      if (data.error === "unknown_session") { startButton(); } else { offer(lastChoices); }
      return;
    }
    var shown = false;
    var ended = (command === "forget" || data.ended) && !(data.messages || []).some(isError);
    if (!ended) {
      (data.messages || []).forEach(function (m) { shown = show(m) || shown; });
    }
    if (ended) {
      forgotten();  // "Delete my answers", or forget typed: nothing of the check stays
    } else if ((data.messages || []).some(function (m) { return m.type === "notice"; })) {
      loadState(true);  // an old button: show where the check stands now
    } else if (!shown) {
      offer(lastChoices);
    }
  }

  function isError(m) { return m.type === "error"; }

  // -- the page's own words ---------------------------------------------------------------

  function applyUi(strings, newLang) {
    ui = strings;
    document.title = ui.title;
    $("title").textContent = ui.title;
    $("log").setAttribute("aria-label", ui.log_label);
    $("choices").setAttribute("aria-label", ui.answers_label);
    $("progress").setAttribute("aria-label", ui.progress_label);
    $("text-label").textContent = ui.type_label;
    $("send").textContent = ui.send;
    $("typed").hidden = false;
    var langs = $("langs");
    langs.setAttribute("aria-label", ui.language_label);
    langs.replaceChildren();
    (ui.langs || []).forEach(function (l) {
      if (l.code === newLang) { return; }
      var b = el("button", "lang", l.name);
      b.type = "button";
      b.lang = l.code;
      b.addEventListener("click", function () {
        send({ command: "language " + l.code, token: token });
      });
      langs.appendChild(b);
    });
    var menu = $("menu");
    menu.setAttribute("aria-label", ui.menu_label);
    menu.replaceChildren();
    [["back", ui.back], ["restart", ui.restart], ["help", ui.help],
     ["privacy", ui.privacy], ["forget", ui.forget]].forEach(function (item) {
      var b = el("button", "menu-item", item[1]);
      b.type = "button";
      b.dataset.command = item[0];
      b.addEventListener("click", function () {
        if (item[0] === "forget") { confirmForget(b); return; }
        send({ command: item[0], token: token }, item[1]);
      });
      menu.appendChild(b);
    });
  }

  // -- showing messages -------------------------------------------------------------------

  function paragraphs(parent, text) {
    String(text || "").split(/\n{2,}/).forEach(function (part) {
      if (part.trim()) { parent.appendChild(el("p", null, part)); }
    });
  }

  function say(text, who) {
    var box = el("div", "msg " + (who || "bot"));
    if (who === "me") { box.appendChild(el("span", "visually-hidden", (ui.you || "") + ": ")); }
    paragraphs(box, text);
    $("log").appendChild(box);
    scrollDown(box);
    return box;
  }

  function scrollDown(node) {
    if (node.scrollIntoView) { node.scrollIntoView({ block: "nearest" }); }
  }

  function show(m) {
    if (m.type === "question") { return question(m); }
    if (m.type === "outcome") { return result(m); }
    if (m.type === "summary") { summary(m.text); return false; }
    say(m.text, m.type === "error" ? "error" : m.type === "notice" ? "notice" : "bot");
    if (m.buttons && m.buttons.length) { token = m.token; offer(m.buttons); return true; }
    return false;
  }

  function question(m) {
    if (m.lead) { say(m.lead, "bot"); }
    var box = say(m.text, "bot question");
    box.dataset.question = m.id || "";
    box.tabIndex = -1;  // focus goes to the question, never to an answer Enter would give
    progress(m.progress, m.progress_text);
    token = m.token;
    offer(m.buttons, m.id);
    return true;
  }

  function progress(p, text) {
    var wrap = $("progress-wrap");
    if (!p) { wrap.hidden = true; return; }
    wrap.hidden = false;
    $("progress").max = p[1];
    $("progress").value = p[0] - 1;
    $("progress-text").textContent = text;
  }

  function result(m) {
    progress(null);
    var box = el("section", "msg bot result level-" + (m.level || "none"));
    var head = el("h2", "headline");
    head.tabIndex = -1;
    if (m.icon) {
      var icon = el("span", "icon", m.icon);
      icon.setAttribute("aria-hidden", "true");
      head.appendChild(icon);
    }
    head.appendChild(el("span", null, m.headline));
    box.appendChild(head);
    paragraphs(box, m.advice);
    (m.sections || []).forEach(function (part) {
      var lines = String(part).split("\n");
      var section = el("div", "part");
      section.appendChild(el("h3", null, lines[0]));
      if (lines.length > 1) { section.appendChild(el("p", "lines", lines.slice(1).join("\n"))); }
      box.appendChild(section);
    });
    $("log").appendChild(box);
    token = m.token;
    offer(m.buttons, null, true);
    head.focus();
    return true;
  }

  function summary(text) {
    var box = el("section", "msg bot summary");
    box.appendChild(el("h2", null, ui.summary_title));
    var pre = el("pre", "summary-text", text);
    box.appendChild(pre);
    var row = el("div", "summary-actions");
    row.appendChild(action(ui.copy, function () {
      var done = function () { $("status").textContent = ui.copied; };
      var failed = function () { $("status").textContent = ui.copy_failed; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, failed);
      } else { failed(); }
    }));
    row.appendChild(action(ui.print, function () {
      document.querySelectorAll(".print-target").forEach(function (n) {
        n.classList.remove("print-target");
      });
      box.classList.add("print-target");
      document.body.classList.add("printing");  // until "afterprint": on phones print()
      window.print();                           // returns before the page is printed
    }));
    row.appendChild(action(ui.download, function () {
      var url = URL.createObjectURL(new Blob([text + "\n"], { type: "text/plain;charset=utf-8" }));
      var a = el("a");
      a.href = url;
      a.download = ui.download_name;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
    }));
    box.appendChild(row);
    $("log").appendChild(box);
    scrollDown(box);
  }

  function action(label, onClick) {
    var b = el("button", "action", label);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  // -- the buttons on offer ---------------------------------------------------------------

  function offer(buttons, questionId, keepFocus) {
    var box = $("choices");
    box.replaceChildren();
    lastChoices = buttons || [];
    lastChoices.forEach(function (b) {
      var button = el("button", "choice " + b.kind, b.label);
      button.type = "button";
      button.dataset.kind = b.kind;
      button.dataset.id = b.id;
      button.addEventListener("click", function () {
        var body = b.kind === "answer" ? { answer: b.id } : { command: b.id };
        body.token = token;
        box.replaceChildren();
        send(body, b.label);
      });
      box.appendChild(button);
    });
    if (questionId !== undefined) { box.dataset.question = questionId || ""; }
    var offered = {};
    lastChoices.forEach(function (b) { if (b.kind === "command") { offered[b.id] = true; } });
    document.querySelectorAll("#menu button").forEach(function (b) {
      b.hidden = !!offered[b.dataset.command];  // "Start again" once, not in both places
    });
    if (lastChoices.length && !keepFocus) { focusAfterOffer(box); }
  }

  // Never an answer button: Enter there would answer a question (perhaps a warning sign)
  // the person has not read. The open question's text takes the focus instead.
  function focusAfterOffer(box) {
    var answers = lastChoices.some(function (b) { return b.kind === "answer"; });
    var asked = $("log").querySelectorAll(".question");
    if (answers && asked.length) { asked[asked.length - 1].focus(); }
    else if (!answers) { box.firstChild.focus(); }
  }

  // -- deleting everything ------------------------------------------------------------------

  // "Delete my answers" asks first, inline (a dialog the page draws, not window.confirm):
  // the question, Delete and Cancel; Cancel gives the focus back to the menu item.
  function confirmForget(opener) {
    if ($("confirm")) { $("confirm-no").focus(); return; }
    var box = el("div", "confirm");
    box.id = "confirm";
    box.setAttribute("role", "alertdialog");
    box.setAttribute("aria-labelledby", "confirm-text");
    var text = el("p", null, ui.forget_confirm);
    text.id = "confirm-text";
    box.appendChild(text);
    var yes = action(ui.forget_yes, function () {
      box.remove();
      send({ command: "forget", token: token });
    });
    yes.classList.add("danger");
    var no = action(ui.forget_no, function () { box.remove(); opener.focus(); });
    no.id = "confirm-no";
    box.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.stopPropagation(); box.remove(); opener.focus(); }
    });
    box.appendChild(yes);
    box.appendChild(no);
    $("menu").after(box);
    no.focus();
  }

  // After deleting: nothing of the check stays on screen, and a new check is the only
  // thing on offer.
  function forgotten() {
    storeSession(null);
    token = null;
    $("log").replaceChildren();
    progress(null);
    $("menu").hidden = true;
    $("typed").hidden = true;
    say(ui.forgotten, "bot");
    startButton();
  }

  function startButton() {
    offer([]);
    var b = action(ui.start, function () {
      $("choices").replaceChildren();
      $("menu").hidden = false;
      $("typed").hidden = false;
      loadState();
    });
    b.classList.add("choice");
    $("choices").appendChild(b);
    b.focus();
  }

  function setBusy(value) {
    busy = value;
    $("main").setAttribute("aria-busy", value ? "true" : "false");
    document.querySelectorAll("#choices button, #menu button, #langs button, #send")
      .forEach(function (b) { b.disabled = value; });
  }

  // -- start --------------------------------------------------------------------------------

  $("typed").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = $("text");
    var text = input.value;
    if (!text.trim() || busy) { return; }
    input.value = "";
    // with the token of the question on screen: typed text answers that question only
    send(token ? { text: text, token: token } : { text: text }, text);
  });

  window.addEventListener("afterprint", function () {
    document.body.classList.remove("printing");  // the browser's own Print: the whole chat
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && embed && window.parent !== window) {
      window.parent.postMessage({ backcheck: "close" }, "*");
    }
  });

  loadState(false);
})();
