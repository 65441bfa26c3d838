"""Copies the digits example's model and image handling into this folder.

A bundle holds only files under its app's folder, so this example ships copies of
examples/digits/digits.py and examples/digits/model.pkl (trained there first when missing).
Run it again after changing either.
"""

import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DIGITS = HERE.parent / "digits"


def main() -> None:
    if not (DIGITS / "model.pkl").is_file():
        subprocess.run([sys.executable, "train.py"], cwd=DIGITS, check=True)
    for name in ("digits.py", "model.pkl"):
        shutil.copyfile(DIGITS / name, HERE / name)
        print(f"copied {DIGITS / name} into {HERE}")


if __name__ == "__main__":
    main()
