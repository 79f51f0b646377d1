"""`backcheck review`: the clinician's review pack (HTML, and PDF with --pdf) and what
changed since an older version (--diff)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from bot.engine.loader import DEFAULT_FLOW, ROOT
from bot.review import diff, html, pdf
from bot.review.content import Review, gather
from bot.review.version import Content, short

HAZARDS = ROOT / "docs" / "hazards.yaml"
CARE = "BACKCHECK_CARE_FILE"


def write_pack(review: Review, out: Path, *, as_pdf: bool = False,
               changes: str = "") -> list[Path]:
    """Write the HTML page (and its PDF) into `out`; return the files written."""
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{review.flow.id}-review-{short(review.version)}"
    page = out / f"{stem}.html"
    page.write_text(html.page(review, changes), encoding="utf-8")
    written = [page]
    if as_pdf:
        written.append(pdf.print_pdf(page, out / f"{stem}.pdf"))
    return written


def _run(args: argparse.Namespace) -> int:
    if not args.out and not args.diff:
        args.parser.error("give --out DIR (the review pack) and/or --diff OLD (what changed)")
    flow = Path(args.flow)
    care_file = args.care if args.care is not None else os.environ.get(CARE, "")
    care = Path(care_file) if care_file else None
    content = Content.at(ROOT, flow, care)
    review = gather(content, Path(args.hazards))
    changes = ""
    if args.diff:
        with diff.old_content(args.diff, ROOT, flow.name, care) as old:
            found = diff.compare(old, content)
        sys.stdout.write(diff.as_text(found))
        changes = diff.as_html(found, args.diff)
    if args.out:
        for path in write_pack(review, Path(args.out), as_pdf=args.pdf, changes=changes):
            print(f"wrote {path}")
        print(f"content version {short(review.version)} ({review.version})"
              + (f", with the care file {care}" if care else ", without a care file"))
    for problem in review.hazards.problems:
        print(f"backcheck review: hazard log: {problem}", file=sys.stderr)
    return 1 if review.hazards.problems or review.report.violations else 0


def register(sub: Any) -> None:
    """Add `backcheck review`."""
    p = sub.add_parser("review", help="write the clinician's review pack (HTML, PDF) or "
                                      "show what changed since an older version")
    p.add_argument("--out", metavar="DIR", help="write the review page (and PDF) here")
    p.add_argument("--pdf", action="store_true", help="also print it to PDF with chromium")
    p.add_argument("--flow", metavar="FILE", default=str(DEFAULT_FLOW),
                   help="the flow file (default flows/back_pain.yaml); its locales/ and "
                        "flows/tips.yaml are read from the checkout")
    p.add_argument("--diff", metavar="OLD", help="a directory with an older flows/ and "
                   "locales/, or a git revision: print what changed (and add it to the page)")
    p.add_argument("--care", metavar="FILE", help="the workplace's places of care, part of "
                   f"the signed content (default: ${CARE}; --care '' for none)")
    p.add_argument("--hazards", metavar="FILE", default=str(HAZARDS),
                   help="the hazard log (default docs/hazards.yaml)")
    p.set_defaults(handler=_run, parser=p)
