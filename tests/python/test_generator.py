"""Tests of the synthetic LPOINT_BIG_COMP generator, its planted truth and the oracle.

Small sizes in tmp dirs; the whole file runs in well under a minute."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import numpy as np
import pandas as pd
import pytest

from loyalty_analytics.generator import generate, oracle_alive, oracle_scores
from loyalty_analytics.generator.writer import FILES

N = 1500
SEED = 7
CUTOFF, HORIZON = dt.date(2021, 9, 30), dt.date(2021, 12, 31)
STR = {"cust": str, "rct_no": str, "br_c": str, "pd_c": str, "cop_c": str, "zon_hlv": str, "zon_mcls": str}


@pytest.fixture(scope="module")
def gen(tmp_path_factory):
    root = tmp_path_factory.mktemp("gen")
    raw, truth = root / "raw", root / "truth"
    summary = generate(N, SEED, raw, truth)
    data = {k: pd.read_csv(raw / name, dtype=STR, keep_default_na=False) for k, (name, _) in FILES.items()}
    cust = pd.read_parquet(truth / "customers.parquet")
    prod = pd.read_parquet(truth / "products.parquet")
    return dict(raw=raw, truth=truth, summary=summary, data=data, cust=cust, prod=prod)


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.csv"))}


# ---------------------------------------------------------------- determinism
def test_same_seed_identical_bytes_different_seed_differs(gen, tmp_path):
    generate(N, SEED, tmp_path / "a", tmp_path / "ta")
    assert _digest(tmp_path / "a") == _digest(gen["raw"])
    generate(N, SEED + 1, tmp_path / "b", tmp_path / "tb")
    other = _digest(tmp_path / "b")
    assert other["LPOINT_BIG_COMP_02_PDDE.csv"] != _digest(gen["raw"])["LPOINT_BIG_COMP_02_PDDE.csv"]
    assert other["LPOINT_BIG_COMP_01_DEMO.csv"] != _digest(gen["raw"])["LPOINT_BIG_COMP_01_DEMO.csv"]


def test_catalog_independent_of_customer_count(gen, tmp_path):
    generate(200, SEED, tmp_path / "s", tmp_path / "ts")
    for name in ("LPOINT_BIG_COMP_04_PD_CLAC.csv", "LPOINT_BIG_COMP_05_BR.csv"):
        assert (tmp_path / "s" / name).read_bytes() == (gen["raw"] / name).read_bytes()


# ---------------------------------------------------------------- contract
def test_headers_encoding_and_order(gen):
    for key, (name, cols) in FILES.items():
        b = (gen["raw"] / name).read_bytes()
        assert not b.startswith(b"\xef\xbb\xbf"), name
        b.decode("utf-8")
        assert b.split(b"\n", 1)[0].decode() == ",".join(cols), name
        assert list(gen["data"][key].columns) == cols
        assert len(gen["data"][key]) > 0


def test_code_formats_and_types(gen):
    d = gen["data"]
    demo, pdde, cop, clac, br, lpay = (d[k] for k in ("demo", "pdde", "cop_u", "pd_clac", "br", "lpay"))
    assert demo.cust.str.fullmatch(r"M\d{9}").all() and demo.cust.is_unique and len(demo) == N
    assert set(demo.ma_fem_dv) == {"남성", "여성"}
    assert set(demo.ages) <= {f"{a}0대" for a in range(2, 8)}
    assert demo.zon_hlv.str.fullmatch(r"Z(0[1-9]|1[0-7])").all()
    assert set(pdde.cop_c) == {"A01", "A02", "A03", "A04", "A05", "A06"}
    assert set(cop.cop_c) == {"B01", "C01", "C02", "D01", "D02", "E01"}
    assert set(lpay.cop_c) <= set(pdde.cop_c) | set(cop.cop_c) | {"L00", "L01"}
    for df in (pdde, cop, lpay):
        assert set(df.chnl_dv.unique()) <= {1, 2}
        assert df.de_hr.between(0, 23).all()
        assert df.de_dt.between(20210101, 20211231).all()
        pd.to_datetime(df.de_dt.astype(str), format="%Y%m%d")  # valid calendar dates
        assert (df.buy_am > 0).all() and df.buy_am.dtype.kind == "i"
        assert df.rct_no.str.fullmatch(r"[A-EL]\d{2}\d{9}").all()
    assert (pdde.buy_ct > 0).all() and pdde.buy_ct.dtype.kind == "i"
    assert cop.vst_dt.between(20210101, 20211231).all() and (cop.vst_dt >= cop.de_dt).all()
    assert clac.pd_c.str.fullmatch(r"PD\d{4}").all() and len(clac) == 1933
    assert clac.pd_c.tolist() == [f"PD{i:04d}" for i in range(1, 1934)]
    assert clac.pd_nm.is_unique and 50 <= clac.clac_hlv_nm.nunique() <= 65
    assert (clac.groupby("clac_mcls_nm").clac_hlv_nm.nunique() == 1).all()
    assert br.br_c.is_unique and br.zon_mcls.str[:3].eq(br.zon_hlv).all()
    # ints never written as floats
    text = (gen["raw"] / FILES["pdde"][0]).read_text(encoding="utf-8")[:20000]
    assert not re.search(r",\d+\.0(,|\n)", text)


def test_receipts_lines_and_links(gen):
    d = gen["data"]
    pdde, cop, br, clac, lpay = d["pdde"], d["cop_u"], d["br"], d["pd_clac"], d["lpay"]
    assert ((pdde.br_c == "") == (pdde.chnl_dv == 2)).all()
    assert ((cop.br_c == "") == (cop.chnl_dv == 2)).all()
    assert set(pdde.br_c[pdde.br_c != ""]) <= set(br.br_c)
    assert set(cop.br_c[cop.br_c != ""]) <= set(br.br_c)
    st = br.set_index("br_c").cop_c
    off = pdde[pdde.br_c != ""]
    assert (st.loc[off.br_c].to_numpy() == off.cop_c.to_numpy()).all()
    assert set(pdde.pd_c) <= set(clac.pd_c)
    assert not pdde.duplicated().any()
    assert not pdde.duplicated(["rct_no", "pd_c"]).any()
    # one receipt = one trip: one customer, affiliate, store, channel, date, hour
    per = pdde.groupby("rct_no")[["cust", "cop_c", "br_c", "chnl_dv", "de_dt", "de_hr"]].nunique()
    assert (per == 1).all().all()
    assert cop.rct_no.is_unique and not set(cop.rct_no) & set(pdde.rct_no)
    assert set(d["demo"].cust) >= set(pdde.cust) | set(cop.cust) | set(lpay.cust)
    # L.Pay rows link to receipts with same customer, affiliate, date, hour and the total
    assert lpay.rct_no.is_unique
    rec = pdde.groupby("rct_no").agg(
        cust=("cust", "first"),
        cop_c=("cop_c", "first"),
        chnl_dv=("chnl_dv", "first"),
        de_dt=("de_dt", "first"),
        de_hr=("de_hr", "first"),
        buy_am=("buy_am", "sum"),
    )
    rec = pd.concat([rec, cop.set_index("rct_no")[rec.columns]])
    aff = lpay[~lpay.cop_c.isin(["L00", "L01"])].set_index("rct_no")
    assert aff.index.isin(rec.index).all()
    pd.testing.assert_frame_equal(aff[rec.columns], rec.loc[aff.index], check_dtype=False)
    out = lpay[lpay.cop_c.isin(["L00", "L01"])]
    assert len(out) > 0 and not out.rct_no.isin(rec.index).any()
    assert ((out.cop_c == "L01") == (out.chnl_dv == 2)).all()


# ---------------------------------------------------------------- marginals
def test_demographic_marginals(gen):
    demo = gen["data"]["demo"]
    ratio = (demo.ma_fem_dv == "여성").sum() / (demo.ma_fem_dv == "남성").sum()
    assert 1.6 <= ratio <= 2.5  # women ~2x men
    assert demo.ages.value_counts().idxmax() == "40대"


def test_time_marginals(gen):
    p = gen["data"]["pdde"]
    dow = pd.to_datetime(p.de_dt.astype(str), format="%Y%m%d").dt.day_of_week.value_counts(normalize=True)
    assert set(dow.index[:2]) == {4, 5}  # Fri, Sat busiest
    assert dow[[4, 5]].min() > 1.15 * dow[[0, 1, 2, 3]].max()
    hr = p.de_hr.value_counts()
    assert set(hr.index[:2]) == {17, 18}  # 17-18h peak


def test_channel_and_affiliate_themes(gen):
    p, clac = gen["data"]["pdde"], gen["data"]["pd_clac"]
    online = (p.chnl_dv == 2).mean()
    assert 0.10 <= online <= 0.25
    by = p.groupby("cop_c")
    share_on = by.chnl_dv.apply(lambda s: (s == 2).mean())
    assert share_on["A06"] == 1.0 and share_on["A04"] == 0.0
    assert all(0.0 < share_on[a] < 0.5 for a in ("A01", "A02", "A03"))
    basket = p.groupby(["cop_c", "rct_no"]).agg(n=("pd_c", "size"), am=("buy_am", "sum")).groupby("cop_c").mean()
    assert basket.n["A02"] == basket.n.max() and basket.n["A02"] > 3  # hypermarket: large baskets
    assert basket.am["A04"] == basket.am.min()  # convenience: small cheap
    assert basket.am["A05"] == basket.am.max()  # electronics: expensive
    trips = p.groupby("cop_c").rct_no.nunique()
    assert trips["A05"] == trips.min() and trips["A04"] > trips["A01"]
    cat = p.merge(clac, on="pd_c")
    top = cat.groupby("cop_c").clac_hlv_nm.agg(lambda s: set(s.value_counts().index[:6]))
    assert top["A04"] & {"과자", "음료", "주류", "즉석식품"}
    assert top["A01"] & {"여성의류", "남성의류", "화장품", "명품", "가방/잡화"}
    assert top["A03"] & {"과일", "채소", "축산물", "수산물"}
    # products sold at several affiliates
    assert (p.groupby("pd_c").cop_c.nunique() >= 2).mean() > 0.3


def test_lpay_and_no_purchase_shares(gen):
    d = gen["data"]
    lp = d["lpay"]
    share = lp.cust.nunique() / N
    assert 0.22 <= share <= 0.40  # ~30% used L.Pay
    a04 = lp[lp.cop_c == "A04"].de_dt // 100
    monthly = a04.value_counts()
    assert monthly[202112] > 1.5 * monthly.drop(202112).median()  # December promotion
    buyers = set(d["pdde"].cust) | set(d["cop_u"].cust)
    assert len(set(d["demo"].cust) - buyers) == round(N * 39 / 29913)


# ---------------------------------------------------------------- truth vs files
def test_truth_consistent_with_files(gen):
    cust, p, c = gen["cust"], gen["data"]["pdde"], gen["data"]["cop_u"]
    trips = pd.concat([p[["cust", "rct_no"]].drop_duplicates(), c[["cust", "rct_no"]]]).groupby("cust").size()
    obs = trips.reindex(cust.customer_id).fillna(0).to_numpy()
    assert (obs == cust.n_trips.to_numpy()).all()
    assert (cust.n_trips == 0).sum() == round(N * 39 / 29913)
    # observed trips follow lambda x active days
    first = pd.to_datetime(cust.first_active_date)
    end = pd.to_datetime(cust.dropout_date).fillna(pd.Timestamp("2021-12-31"))
    days = (end - first).dt.days.to_numpy() + 1
    ok = cust.n_trips.to_numpy() > 0
    expected = cust.purchase_rate_per_day.to_numpy() * days
    r = np.corrcoef(np.log1p(obs[ok]), np.log1p(expected[ok]))[0, 1]
    assert r > 0.85, r
    # no purchase after dropout, none before first activity
    dates = pd.concat([p[["cust", "de_dt"]], c[["cust", "de_dt"]]]).groupby("cust").de_dt.agg(["min", "max"])
    t = cust.set_index("customer_id").join(dates, how="inner")
    drop = pd.to_datetime(t.dropout_date)
    lastd = pd.to_datetime(t["max"].astype(str), format="%Y%m%d")
    firstd = pd.to_datetime(t["min"].astype(str), format="%Y%m%d")
    assert (lastd[drop.notna()] == drop[drop.notna()]).all()
    assert (firstd >= pd.to_datetime(t.first_active_date)).all()
    assert (~t.alive_at_end == drop.notna()).all()
    # segment L.Pay adoption differs as planted and shows in the data
    lp_users = set(gen["data"]["lpay"].cust)
    cust = cust.assign(used=cust.customer_id.isin(lp_users))
    rate = cust.groupby("segment_name").used.mean()
    assert rate["L.Pay VIP"] > 0.6 and rate["at risk / churning"] < 0.3
    assert rate.max() - rate.min() > 0.4
    assert cust.segment_id.nunique() == 5
    # demographics carry taste signal: taste differs by age band
    taste = cust[[c for c in cust.columns if c.startswith("taste_")]]
    means = taste.groupby(cust.age_band).mean()
    assert (means.max() - means.min()).max() > 0.5


def test_truth_products(gen):
    prod, clac = gen["prod"], gen["data"]["pd_clac"]
    assert prod.product_code.tolist() == clac.pd_c.tolist()
    assert (prod.category_major.to_numpy() == clac.clac_hlv_nm.to_numpy()).all()
    assert prod.affiliates.map(len).min() >= 1
    cyc = prod.repurchase_cycle_days
    assert 0.3 < cyc.notna().mean() < 0.8 and (cyc.dropna() >= 3).all()


def test_repurchase_cycle_visible(gen):
    """Gaps between repeat purchases of a consumable cluster near its planted cycle."""
    p, prod = gen["data"]["pdde"], gen["prod"].set_index("product_code")
    d = p[["cust", "pd_c", "de_dt"]].drop_duplicates().copy()
    d["day"] = pd.to_datetime(d.de_dt.astype(str), format="%Y%m%d")
    d = d.sort_values(["cust", "pd_c", "day"])
    d["gap"] = d.groupby(["cust", "pd_c"]).day.diff().dt.days
    d["cyc"] = prod.repurchase_cycle_days.reindex(d.pd_c).to_numpy()
    g = d.dropna(subset=["gap", "cyc"])
    g = g[g.cyc >= 20]
    rel = (g.gap / g.cyc) % 1.0
    near = ((rel < 0.35) | (rel > 0.85)).mean()  # a 50%-wide band: 0.50 by chance
    assert near > 0.56, near


def test_habits_and_discovery(gen):
    p = gen["data"]["pdde"]
    first = p.groupby(["cust", "pd_c"]).de_dt.transform("min")
    repeat = (p.de_dt > first).mean()
    assert 0.4 < repeat < 0.9  # favourites are rebought ...
    late = p[p.de_dt > 20210930]
    early = set(zip(p.cust[p.de_dt <= 20210930], p.pd_c[p.de_dt <= 20210930]))
    new = ~pd.Series(list(zip(late.cust, late.pd_c))).isin(early)
    assert 0.05 < new.mean() < 0.6  # ... and new products discovered


# ---------------------------------------------------------------- oracle
def test_oracle(gen):
    cust, prod, p = gen["cust"], gen["prod"], gen["data"]["pdde"]
    rng = np.random.default_rng(0)
    ids = cust.customer_id.to_numpy()[rng.choice(N, 400, replace=False)]
    codes = prod.product_code.tolist()
    S = oracle_scores(gen["truth"], ids, codes, CUTOFF, HORIZON)
    assert S.shape == (400, 1933) and S.dtype == np.float32
    assert np.isfinite(S).all() and (S >= 0).all() and (S <= 1).all()
    fut = p[p.de_dt > 20210930][["cust", "pd_c"]].drop_duplicates()
    ci = {v: i for i, v in enumerate(ids)}
    fut = fut[fut.cust.isin(ci)]
    Y = np.zeros(S.shape, bool)
    Y[fut.cust.map(ci).to_numpy(), fut.pd_c.str[2:].astype(int).to_numpy() - 1] = True
    aucs = []
    for i in np.flatnonzero(Y.any(axis=1)):
        pos, neg = S[i, Y[i]], S[i, ~Y[i]]
        aucs.append((pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean())
    assert np.mean(aucs) > 0.7, np.mean(aucs)
    assert S[Y].mean() > 3 * S[~Y].mean()
    # calibration: expected number of (customer, product) pairs ~ observed
    assert 0.7 < S.sum() / Y.sum() < 1.3
    # dead customers (dropped out on/before the cutoff) score ~0 and buy nothing later
    alive = oracle_alive(gen["truth"], ids, CUTOFF)
    t = cust.set_index("customer_id").loc[ids]
    dead = pd.to_datetime(t.dropout_date).dt.date.le(CUTOFF).fillna(False).to_numpy()
    assert dead.any() and not alive[dead].any()
    assert S[dead].max() == 0.0 and not Y[dead].any()
    assert alive.mean() > 0.5


def test_oracle_alive_semantics(gen):
    cust = gen["cust"]
    drop = cust.dropna(subset=["dropout_date"]).iloc[:20]
    ids = drop.customer_id.tolist()
    for i, d in zip(ids, pd.to_datetime(drop.dropout_date).dt.date):
        assert oracle_alive(gen["truth"], [i], d)[0] == False  # noqa: E712 (dead after its last trip)
        if d > pd.Timestamp(cust.set_index("customer_id").first_active_date[i]).date():
            assert oracle_alive(gen["truth"], [i], d - dt.timedelta(days=1))[0]
    with pytest.raises(KeyError):
        oracle_alive(gen["truth"], ["M000000000"], CUTOFF)


def test_cli(tmp_path):
    from loyalty_analytics.generator.__main__ import main

    assert (
        main(["--customers", "50", "--seed", "3", "--out-raw", str(tmp_path / "r"), "--out-truth", str(tmp_path / "t")])
        == 0
    )
    assert len(list((tmp_path / "r").glob("LPOINT_BIG_COMP_0*.csv"))) == 6
    assert (tmp_path / "t" / "manifest.json").exists()
