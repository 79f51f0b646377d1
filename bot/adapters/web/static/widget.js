// backcheck widget: <script src="https://bot.example.org/widget.js" data-lang="sv"></script>
// adds a "Take the 5-minute check" button where the tag stands; it opens the check in a
// panel (an iframe of the bot's own page). The words come from the bot, which answers only
// the origins it lists (BACKCHECK_WEB_ORIGINS): anywhere else, no button appears.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.backcheckWidget) { return; }
  window.backcheckWidget = true;
  var base = new URL(script.src, window.location.href).origin;
  var wanted = script.getAttribute("data-lang") || "";

  function style(node, rules) {
    Object.keys(rules).forEach(function (k) { node.style[k] = rules[k]; });
    return node;
  }

  function build(ui, lang) {
    var open = document.createElement("button");
    open.type = "button";
    open.className = "backcheck-open";
    open.textContent = ui.widget_open;
    open.setAttribute("aria-expanded", "false");
    open.setAttribute("aria-controls", "backcheck-panel");
    style(open, { font: "inherit", fontWeight: "600", padding: "0.6em 1.2em", minHeight: "44px",
      borderRadius: "0.5em", border: "2px solid #0b3d6e", background: "#0b3d6e",
      color: "#fff", cursor: "pointer" });

    var panel = document.createElement("div");
    panel.id = "backcheck-panel";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", ui.widget_title);
    panel.hidden = true;
    style(panel, { position: "fixed", right: "1rem", bottom: "1rem", zIndex: "2147483000",
      width: "min(26rem, calc(100vw - 2rem))", height: "min(42rem, calc(100vh - 2rem))",
      display: "none", flexDirection: "column", background: "#fff",
      border: "1px solid #5a6270", borderRadius: "0.75rem",
      boxShadow: "0 0.5rem 2rem rgba(0,0,0,0.3)", overflow: "hidden" });

    var close = document.createElement("button");
    close.type = "button";
    close.className = "backcheck-close";
    close.textContent = ui.widget_close;
    style(close, { font: "inherit", alignSelf: "flex-end", margin: "0.25rem", minHeight: "44px",
      padding: "0.4em 1em", border: "2px solid #0b3d6e", borderRadius: "0.5em",
      background: "#fff", color: "#0b3d6e", cursor: "pointer" });

    var frame = null;

    function show(visible) {
      panel.hidden = !visible;
      panel.style.display = visible ? "flex" : "none";
      open.setAttribute("aria-expanded", visible ? "true" : "false");
      if (visible) {
        if (!frame) {
          frame = document.createElement("iframe");
          frame.title = ui.widget_title;
          frame.src = base + "/?embed=1&lang=" + encodeURIComponent(lang);
          style(frame, { flex: "1 1 auto", width: "100%", border: "0" });
          panel.appendChild(frame);
        }
        frame.focus();
      } else {
        open.focus();
      }
    }

    open.addEventListener("click", function () { show(panel.hidden); });
    close.addEventListener("click", function () { show(false); });
    // Escape closes the panel: in the check (the frame asks, see app.js) or on the panel
    // itself (its Close button); show(false) gives the focus back to the open button.
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && !panel.hidden) { event.preventDefault(); show(false); }
    });
    window.addEventListener("message", function (event) {
      if (event.origin === base && frame && event.source === frame.contentWindow &&
          event.data && event.data.backcheck === "close" && !panel.hidden) { show(false); }
    });
    panel.appendChild(close);
    script.parentNode.insertBefore(open, script.nextSibling);
    document.body.appendChild(panel);
  }

  fetch(base + "/api/ui" + (wanted ? "?lang=" + encodeURIComponent(wanted) : ""),
        { credentials: "omit" })
    .then(function (resp) { if (!resp.ok) { throw new Error(resp.status); } return resp.json(); })
    .then(function (data) { build(data.ui, data.lang); })
    .catch(function () { /* not an allowed origin, or the bot is down: no button */ });
})();
