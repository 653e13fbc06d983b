"""The repository needs nothing outside it: no file names a path beside the checkout."""

import os

from conftest import REPO

SKIP = {".git", "target", "dist", "__pycache__", ".pytest_cache", "sim-out"}
OUTSIDE = "../" + "shared"  # spelled apart, so that this file does not name it


def test_no_file_of_the_repository_points_at_the_folder_beside_it():
    found = []
    for root, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in SKIP]
        for name in files:
            path = os.path.join(root, name)
            try:
                with open(path, encoding="utf-8") as f:
                    text = f.read()
            except (UnicodeDecodeError, OSError):
                continue  # not text: images, jars
            for number, line in enumerate(text.splitlines(), 1):
                if OUTSIDE in line:
                    found.append(f"{os.path.relpath(path, REPO)}:{number}: {line.strip()[:120]}")
    assert not found, "files point outside the repository:\n" + "\n".join(found)
