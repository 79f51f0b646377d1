"""The review page's stylesheet: readable on screen, and printed on A4 with the flow's
name, the content version and the page number on every page."""

from __future__ import annotations

CSS = """
:root { --red: #b03a2e; --pink: #fbe3e1; --ink: #1c2833; --muted: #566573; --line: #d5d8dc;
        --ok: #1e8449; --band: #f4f6f7; }
* { box-sizing: border-box; }
html { font: 10.5pt/1.45 "DejaVu Sans", "Liberation Sans", Helvetica, Arial, sans-serif;
       color: var(--ink); background: #fff; }
body { margin: 0 auto; max-width: 1100px; padding: 0 24px 48px; }
.bar { position: sticky; top: 0; background: #fff; border-bottom: 2px solid var(--ink);
       display: flex; justify-content: space-between; font-size: 9pt; padding: 6px 0;
       color: var(--muted); z-index: 2; }
h1 { font-size: 20pt; margin: 12px 0 4px; }
h2 { font-size: 14pt; margin: 28px 0 8px; padding-bottom: 3px; border-bottom: 1px solid var(--ink);
     break-after: avoid; }
h3 { font-size: 11pt; margin: 16px 0 6px; break-after: avoid; }
p { margin: 6px 0; }
code, .id { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 9pt; }
.muted { color: var(--muted); }
.lead { font-size: 11pt; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; }
th, td { border: 1px solid var(--line); padding: 4px 6px; vertical-align: top; text-align: left; }
th { background: var(--band); font-weight: 600; font-size: 9pt; }
tr { break-inside: avoid; }
table.texts td { white-space: pre-wrap; }
table.texts tr { break-inside: auto; }
.two td { width: 50%; }
.box { border: 1px solid var(--line); border-radius: 4px; padding: 8px 10px; margin: 10px 0;
       break-inside: avoid; }
.result, .question { break-inside: auto; }
.redflag { border-left: 4px solid var(--red); }
.badge { display: inline-block; font-size: 8pt; padding: 0 6px; border-radius: 8px;
         background: var(--band); color: var(--ink); margin-left: 6px; vertical-align: 1px; }
.badge.red { background: var(--pink); color: var(--red); font-weight: 600; }
.level-ambulance, .level-emergency { color: var(--red); font-weight: 600; }
.ok { color: var(--ok); font-weight: 600; }
.bad { color: var(--red); font-weight: 600; }
.warn { background: var(--pink); border: 1px solid var(--red); padding: 6px 10px; }
.flow-graph { display: block; margin: 0 auto; }  /* printed at the size graph.fit gives */
.part { break-inside: avoid; }
ol.notes { font-size: 9pt; margin: 6px 0; padding-left: 26px; }
ol.notes li::marker { content: "(" counter(list-item) ") "; }
table.hazards { table-layout: fixed; font-size: 9pt; }
table.hazards th:nth-child(1) { width: 5%; } table.hazards th:nth-child(2) { width: 16%; }
table.hazards th:nth-child(3) { width: 19%; } table.hazards th:nth-child(4) { width: 15%; }
table.hazards th:nth-child(5) { width: 22%; } table.hazards th:nth-child(6) { width: 23%; }
table.hazards code { overflow-wrap: anywhere; font-size: 8pt; }
.meta td:first-child, .meta th:first-child { width: 28%; }
.sign td { height: 40px; }
.signoff { break-before: page; break-inside: avoid; }
.changes { margin: 2px 0 14px; }
.ruled { height: 8.5mm; border-bottom: 1px solid var(--ink); }
.sign td:first-child { width: 28%; font-weight: 600; }
ol.path { margin: 4px 0; padding-left: 22px; }
.diff-old { color: var(--red); text-decoration: line-through; }
.diff-new { color: var(--ok); }
table.lines { table-layout: fixed; }
table.lines th:first-child { width: 6%; }
table.lines th:last-child { width: 13%; }
table.asks { table-layout: fixed; }
table.asks th:nth-child(1) { width: 15%; } table.asks th:nth-child(2) { width: 29%; }
table.asks th:nth-child(3) { width: 29%; } table.asks th:nth-child(4) { width: 27%; }
table.rules { table-layout: fixed; }
table.rules th:nth-child(1) { width: 4%; } table.rules th:nth-child(2) { width: 36%; }
table.rules th:nth-child(3) { width: 12%; } table.rules th:nth-child(4) { width: 20%; }
table.rules th:nth-child(5) { width: 28%; }
table.invariants { table-layout: fixed; }
table.invariants th:nth-child(1) { width: 30%; } table.invariants th:nth-child(2) { width: 36%; }
table.invariants th:nth-child(3) { width: 12%; } table.invariants th:nth-child(4) { width: 11%; }
table.invariants th:nth-child(5) { width: 11%; }
table.invariants code, table.asks code { overflow-wrap: anywhere; }
@media print {
  /* Dense for paper, so the whole pack reads in one sitting (issue 19: under 40 pages):
     9 pt body, tight cells and gaps; only the big parts start a new page. */
  html { font-size: 9pt; line-height: 1.3; }
  body { max-width: none; padding: 0; }
  .bar { display: none; }
  .pagebreak { break-before: auto; }  /* parts run on; only the sign-off starts a page */
  a { color: inherit; text-decoration: none; }
  h2 { font-size: 12.5pt; margin: 12px 0 5px; }
  h3 { font-size: 9.5pt; margin: 8px 0 3px; }
  p { margin: 3px 0; }
  code, .id { font-size: 8.5pt; }
  table { margin: 3px 0 5px; }
  th, td { padding: 1px 4px; }
  td { font-size: 8.5pt; line-height: 1.25; }
  th { font-size: 8.5pt; }
  .box { padding: 3px 6px; margin: 5px 0; }
  .result { border: 0; border-top: 1px solid var(--line); border-radius: 0; margin: 0;
            padding: 2px 0; }
  .result h3 { display: inline; margin: 0 10px 0 0; font-size: 9pt; }
  .result table { margin: 2px 0; }
  .result .path { font-size: 8pt; margin: 0; color: var(--muted); }
  .sign td { height: 34px; }
  table.hazards { font-size: 8.5pt; }
}
"""


def _css_string(text: str) -> str:
    """Text as a quoted CSS string: anything but plain ASCII letters and digits escaped."""
    return '"' + "".join(ch if ch.isascii() and (ch.isalnum() or ch in " .,:-_()")
                         else f"\\{ord(ch):06x}" for ch in text) + '"'


def page_css(flow_name: str, version: str) -> str:
    """The printed page: A4, the flow and the content version on every page, page numbers."""
    small = "font: 8pt sans-serif; color: #566573;"
    return (
        "@page { size: A4; margin: 13mm 10mm 12mm;\n"
        f"  @top-left {{ content: {_css_string('backcheck clinical review: flow ' + flow_name)};"
        f" {small} }}\n"
        f"  @top-right {{ content: {_css_string('content version ' + version)};"
        " font: 8pt monospace; }\n"
        f"  @bottom-left {{ content: {_css_string('Sign-off copy. The check is not a diagnosis.')};"
        f" {small} }}\n"
        f'  @bottom-right {{ content: "page " counter(page) " of " counter(pages); {small} }}\n'
        "}\n")
