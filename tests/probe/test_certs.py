"""Certificate judgement on chains made here: trust, names, dates, and how a chain fails."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from monitoring.probe import certs
from tests.probe.chains import DAY, NOW, der, make


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    keys = {n: ec.generate_private_key(ec.SECP256R1()) for n in ("root", "inter", "leaf", "x")}
    root = make("Root", keys["root"], ca=True, start=NOW - 900 * DAY, end=NOW + 900 * DAY)
    inter = make(
        "Inter",
        keys["inter"],
        root,
        keys["root"],
        ca=True,
        start=NOW - 400 * DAY,
        end=NOW + 400 * DAY,
    )
    bundle = tmp_path_factory.mktemp("pki") / "bundle.pem"
    bundle.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    return {
        "keys": keys,
        "root": root,
        "inter": inter,
        "trust": certs.load_trust_store(str(bundle)),
    }


def leaf(pki, name="mx.example.test", **kw):
    return make(name, pki["keys"]["leaf"], pki["inter"], pki["keys"]["inter"], **kw)


def judge(pki, chain, host="mx.example.test", now=NOW, pool=None):
    info, valid = certs.analyze(der(*chain), host, pki["trust"], now, pool)
    return info, valid


def test_a_full_chain_for_the_name_is_valid(pki):
    info, valid = judge(pki, [leaf(pki), pki["inter"]])
    assert valid is True
    assert info.errors == ()
    assert (info.trusted, info.hostname_match, info.self_signed, info.expired) == (
        True,
        True,
        False,
        False,
    )
    assert info.key == "EC-256"
    assert info.days_left == 90


def test_days_left_round_down_and_go_negative(pki):
    chain = [leaf(pki, end=NOW + DAY - dt.timedelta(seconds=1)), pki["inter"]]
    assert judge(pki, chain)[0].days_left == 0
    info, valid = judge(pki, [leaf(pki, end=NOW - dt.timedelta(seconds=1)), pki["inter"]])
    assert info.days_left == -1
    assert info.expired is True and valid is False
    assert "expired" in info.errors
    assert info.trusted is True  # whatever the dates


def test_a_missing_intermediate_is_incomplete_when_we_know_it_else_untrusted(pki):
    alone = [leaf(pki)]
    info, valid = judge(pki, alone)
    assert (valid, info.trusted, info.errors) == (False, False, ("untrusted",))
    pool = certs.IntermediatePool()
    pool.add_chain([pki["inter"]])
    info, valid = judge(pki, alone, pool=pool)
    assert valid is False
    assert info.errors == ("incomplete-chain",)


def test_a_self_signed_leaf_is_called_so(pki):
    own = make("mx.example.test", pki["keys"]["x"])
    info, valid = judge(pki, [own])
    assert valid is False
    assert info.self_signed is True
    assert "self-signed" in info.errors
    assert info.trusted is False


def test_a_chain_to_another_root_is_untrusted(pki):
    other_key = ec.generate_private_key(ec.SECP256R1())
    other_root = make("Other Root", other_key, ca=True)
    stranger = make("mx.example.test", pki["keys"]["x"], other_root, other_key)
    info, valid = judge(pki, [stranger, other_root])
    assert valid is False
    assert info.errors == ("untrusted",)


def test_an_expired_intermediate_breaks_the_chain(pki):
    old_inter = make(
        "Old Inter",
        pki["keys"]["inter"],
        pki["root"],
        pki["keys"]["root"],
        ca=True,
        start=NOW - 400 * DAY,
        end=NOW - DAY,
    )
    chain = [
        make("mx.example.test", pki["keys"]["leaf"], old_inter, pki["keys"]["inter"]),
        old_inter,
    ]
    info, valid = judge(pki, chain)
    assert valid is False
    assert info.expired is False  # the leaf itself is in date
    assert "expired" in info.errors


def test_names_follow_the_san_not_the_common_name(pki):
    info, valid = judge(pki, [leaf(pki, san=False), pki["inter"]])
    assert valid is False
    assert info.hostname_match is False
    assert info.errors == ("hostname-mismatch",)
    info, valid = judge(pki, [leaf(pki), pki["inter"]], host="mx2.example.test")
    assert valid is False
    assert info.errors == ("hostname-mismatch",)


@pytest.mark.parametrize(
    "pattern, host, expected",
    [
        ("mx.example.test", "MX.Example.Test.", True),
        ("*.example.test", "mx.example.test", True),
        ("*.example.test", "a.mx.example.test", False),
        ("*.example.test", "example.test", False),
        ("m*.example.test", "mx.example.test", False),
        ("*.test", "example.test", False),
        ("mx.*.test", "mx.example.test", False),
    ],
)
def test_wildcards_cover_one_left_most_label_only(pattern, host, expected):
    assert certs.name_matches(pattern, host) is expected
