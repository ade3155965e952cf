"""Check HTML reports the way a reader sees them: in headless Chromium.

For each report: every ``<img>`` is a ``data:`` URI that decodes to a valid PNG; Chromium
renders the page and an inline script measures horizontal overflow (document wider than the
1400 px window, or any element whose right edge passes it) and images that failed to load;
a screenshot is written next to the report (``report.png``) for a person to look at.

Usage: ``python scripts/check_reports.py out/report/report.html out/reach/report.html ...``
Exit code 0 when every page passes, 1 otherwise (the problems are printed).
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

WIDTH = 1400
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_PROBE = """<script>window.addEventListener('load', function () {
  var w = document.documentElement.clientWidth, bad = [];
  if (document.documentElement.scrollWidth > w + 1) bad.push('page ' +
      document.documentElement.scrollWidth + 'px wide > ' + w + 'px');
  document.querySelectorAll('body *').forEach(function (e) {
    var r = e.getBoundingClientRect();
    if (r.right > w + 1) bad.push(e.tagName + ' right edge ' + Math.round(r.right) + 'px');
  });
  document.querySelectorAll('img').forEach(function (i) {
    if (!i.complete || i.naturalWidth === 0) bad.push('image ' + i.alt + ' did not load');
  });
  var p = document.createElement('pre'); p.id = 'kinematics-check';
  p.textContent = JSON.stringify({images: document.images.length, problems: bad});
  document.body.appendChild(p);
});</script>"""


def chromium() -> str | None:
    """Path of a Chromium/Chrome executable, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _flags(profile: str) -> list[str]:
    return ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
            f"--user-data-dir={profile}", f"--window-size={WIDTH},3000", "--hide-scrollbars"]


def check_images(html: str) -> tuple[int, list[str]]:
    """Count ``<img>`` and list those whose source is not a decodable PNG data URI."""
    problems = []
    srcs = re.findall(r'<img[^>]*\bsrc="([^"]*)"', html)
    for k, src in enumerate(srcs):
        if not src.startswith("data:image/png;base64,"):
            problems.append(f"image {k}: not an embedded PNG ({src[:40]!r})")
            continue
        try:
            data = base64.b64decode(src.split(",", 1)[1], validate=True)
        except ValueError:
            problems.append(f"image {k}: bad base64")
            continue
        if not data.startswith(PNG_MAGIC) or b"IEND" not in data[-16:]:
            problems.append(f"image {k}: not a complete PNG")
    return len(srcs), problems


def check_report(path: Path, exe: str, screenshot: bool = True) -> list[str]:
    """Problems found in the report at ``path`` (empty: it passes)."""
    html = path.read_text(encoding="utf-8")
    n, problems = check_images(html)
    if n == 0:
        problems.append("no images")
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe.html"
        probe.write_text(html.replace("</body>", _PROBE + "</body>"), encoding="utf-8")
        dom = subprocess.run([exe, *_flags(str(Path(tmp) / "profile")), "--dump-dom",
                              probe.as_uri()], capture_output=True, text=True, timeout=120,
                             check=False).stdout
        m = re.search(r'<pre id="kinematics-check">(.*?)</pre>', dom, re.S)
        if m is None:
            problems.append("chromium did not render the page")
        else:
            import html as _html

            result = json.loads(_html.unescape(m.group(1)))
            problems += result["problems"]
            if result["images"] != n:
                problems.append(f"chromium saw {result['images']} images, the file has {n}")
        if screenshot:
            subprocess.run([exe, *_flags(str(Path(tmp) / "profile2")),
                            f"--screenshot={path.with_suffix('.png')}", path.resolve().as_uri()],
                           capture_output=True, timeout=120, check=False)
    return problems


def main(argv: list[str]) -> int:
    exe = chromium()
    if exe is None:
        print("check_reports: chromium is not installed", file=sys.stderr)
        return 2
    failed = 0
    for name in argv:
        problems = check_report(Path(name), exe)
        print(f"{name}: {'ok' if not problems else 'FAIL'}")
        for p in problems:
            print(f"  {p}")
        failed += bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
