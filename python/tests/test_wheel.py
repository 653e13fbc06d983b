"""The wheel the Maven build leaves in python/dist: installed anywhere, used from anywhere, with only Java."""

import glob
import json
import os
import subprocess
import zipfile

import pytest

from conftest import REPO, reference
from test_loader import as_reference

PYTHON = "/usr/bin/python3"

# run with -I (isolated: no PYTHONPATH, no user site, not the current folder), from a folder outside
# the checkout, without CONVEYOR_HOME: only what the wheel installed is there to be found
USE = """
import json, sys
sys.path.insert(0, {target!r})
import conveyor
assert conveyor.__file__.startswith({target!r}), conveyor.__file__
loader = conveyor.Loader(shards={shards!r}, batch_size=8, decode="auto", seed=3)
seen = [[b.epoch, b.step, *b.digest()] for b in loader]
print(json.dumps({{"batches": seen, "command": loader._node.command, "module": conveyor.__file__}}))
"""


def wheel():
    found = glob.glob(os.path.join(REPO, "python", "dist", "conveyor-*.whl"))
    assert len(found) == 1, ("no wheel in python/dist: `mvn -B package -pl cli -am` builds it "
                             f"(python/build_wheel.py), found {found}")
    return found[0]


def clean_env(home):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVEYOR_") and k != "PYTHONPATH"}
    env["HOME"] = str(home)
    env["CONVEYOR_JAVA_OPTS"] = os.environ.get("CONVEYOR_JAVA_OPTS", "")
    return env


def install_target(tmp_path):
    target = tmp_path / "site"
    subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target", str(target),
                    wheel()], check=True, capture_output=True)
    return target


def use(target, shards, cwd, env):
    p = subprocess.run([PYTHON, "-I", "-c", USE.format(target=str(target), shards=shards)], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.splitlines()[-1])


def shard_list(pattern):
    """The pattern's shards as a list of plain paths, as WebDataset users pass them."""
    folder = pattern[len("file://"):pattern.index("/part-")]
    return sorted(glob.glob(os.path.join(folder, "part-*.tar")))


def test_the_wheel_in_a_target_folder_runs_from_another_folder_with_the_batches_of_conveyor_run(images, tmp_path):
    digests, _ = reference(tmp_path, images, "--batch-size", "8", "--decode", "auto", "--seed", "3")
    target = install_target(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = clean_env(tmp_path)
    shards = shard_list(images)
    assert len(shards) > 1
    out = use(target, shards, elsewhere, env)
    assert out["module"].startswith(str(target))
    assert out["command"][out["command"].index("-jar") + 1] == str(target / "conveyor" / "_jar" / "conveyor.jar")
    assert [tuple(b) for b in out["batches"]] == as_reference(digests)
    cli = subprocess.run([str(target / "bin" / "conveyor"), "--version"], cwd=elsewhere,
                         env=dict(env, PYTHONPATH=str(target)), capture_output=True, text=True, timeout=60)
    assert cli.returncode == 0 and "conveyor" in cli.stdout, cli.stderr


def test_the_wheel_in_a_venv_installs_the_conveyor_command(images, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([PYTHON, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    subprocess.run([PYTHON, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet", "--no-deps",
                    "--no-index", wheel()], check=True, capture_output=True)
    env = clean_env(tmp_path)
    p = subprocess.run([str(venv / "bin" / "conveyor"), "run", "--shards", images, "--batch-size", "8",
                        "--decode", "none", "--quiet"], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr[-3000:]
    assert p.stdout.splitlines()[-1].startswith("cursor: cv1.")


def test_a_class_data_archive_of_a_rebuilt_jar_is_not_used_and_is_made_anew(images, tmp_path):
    target = install_target(tmp_path)
    jar = target / "conveyor" / "_jar" / "conveyor.jar"
    env = clean_env(tmp_path)
    archives = lambda: sorted(glob.glob(str(jar.parent / "conveyor-cds-*.jsa")))  # noqa: E731
    first = use(target, images, tmp_path, env)["command"]
    assert any(o.startswith("-XX:ArchiveClassesAtExit=") for o in first), first
    made = archives()
    assert len(made) == 1 and os.path.getsize(made[0]) > 1 << 20, made
    second = use(target, images, tmp_path, env)["command"]
    assert f"-XX:SharedArchiveFile={made[0]}" in second
    with zipfile.ZipFile(jar, "a") as z:  # the jar is rebuilt: other bytes, another size and time
        z.writestr("META-INF/rebuilt.txt", "a jar built again")
    third = use(target, images, tmp_path, env)["command"]
    assert not any(o.startswith("-XX:SharedArchiveFile=") for o in third), "the old jar's archive was handed on"
    assert any(o.startswith("-XX:ArchiveClassesAtExit=") for o in third), third
    remade = archives()
    assert len(remade) == 1 and remade != made, (made, remade)
    fourth = use(target, images, tmp_path, env)["command"]
    assert f"-XX:SharedArchiveFile={remade[0]}" in fourth


@pytest.mark.parametrize("bad", [[], ["file:///a/{x}.tar", "file:///b.tar"], 7])
def test_shards_that_are_neither_a_pattern_nor_a_list_of_names_are_refused(bad):
    import conveyor
    with pytest.raises(ValueError, match="shards"):
        conveyor.Loader(shards=bad)


def test_a_list_of_shards_names_the_same_shards_as_the_pattern():
    from conveyor.loader import shard_pattern
    assert shard_pattern(["/d/a.tar", "s3://b/c.tar"]) == "{file:///d/a.tar,s3://b/c.tar}"
    assert shard_pattern("s3://b/part-{0..3}.tar") == "s3://b/part-{0..3}.tar"
    assert shard_pattern("rel.tar") == "file://" + os.path.abspath("rel.tar")
