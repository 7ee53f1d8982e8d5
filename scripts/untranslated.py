"""Report catalog entries that still lack an English translation (after `make translations`)."""

import sys

from babel.messages.pofile import read_po


def main(path: str) -> int:
    with open(path, "rb") as fh:
        catalog = read_po(fh)
    missing = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    total = sum(1 for m in catalog if m.id)
    print(f"{path}: {total - len(missing)}/{total} translated")
    for msgid in missing:
        print(f"  untranslated: {msgid if isinstance(msgid, str) else msgid[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
