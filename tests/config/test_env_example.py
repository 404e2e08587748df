"""`.env.example` documents every environment variable the settings and gunicorn read."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READS = re.compile(r'env\.[a-z]+\("([A-Z][A-Z0-9_]*)"')


def test_every_variable_read_is_in_the_env_example():
    read = set()
    for name in ("config/settings.py", "gunicorn.conf.py"):
        read |= set(READS.findall((ROOT / name).read_text(encoding="utf-8")))
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", example, re.MULTILINE))

    assert read, "no env.<type>(...) reads found: the pattern is out of date"
    assert sorted(read - documented) == []
