"""AUTH_KEYS: what a service accepts, and the error naming the variable for what it does not."""

from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from servicekit.auth.keys import AuthSettings, development_keys, parse_keys
from servicekit.settings import SettingsError

SECRET = "s" * 32


def test_the_first_key_signs_and_all_verify() -> None:
    keys = parse_keys(f"new:{SECRET}, old:{'o' * 40}")
    assert keys.signing_kid == "new" and set(keys.secrets) == {"new", "old"}


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "entry 1 is not kid:secret"),
        (SECRET, "entry 1 is not kid:secret"),
        (f"a:{SECRET},b", "entry 2 is not kid:secret"),
        (f"bad kid:{SECRET}", "entry 1 is not kid:secret"),
        ("short:abc", "the secret of key 'short' is shorter than 32 bytes"),
        (f"a:{SECRET},a:{SECRET}", "key 'a' is given twice"),
    ],
)
def test_a_malformed_value_names_the_variable_and_the_entry(value: str, problem: str) -> None:
    with pytest.raises(SettingsError) as raised:
        parse_keys(value)
    assert str(raised.value).startswith("AUTH_KEYS: ") and problem in str(raised.value)
    assert SECRET not in str(raised.value)


def test_production_requires_auth_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTH_KEYS", raising=False)
    monkeypatch.setenv("PROFILE", "production")
    with pytest.raises(SettingsError, match="AUTH_KEYS is not set"):
        AuthSettings().key_set()


def test_development_makes_one_private_key_per_machine(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AUTH_KEYS", raising=False)
    for attempt in range(20):  # the race between creating the file and writing it is narrow
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / str(attempt)))
        with ThreadPoolExecutor(8) as pool:  # processes starting at once share one key
            key_sets = list(pool.map(lambda _: AuthSettings().key_set(), range(8)))
        assert all(keys == key_sets[0] for keys in key_sets)
        path = tmp_path / str(attempt) / "specfirst" / "auth_keys"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert development_keys() == key_sets[0]
        assert [file.name for file in path.parent.iterdir()] == ["auth_keys"]  # no leftovers
