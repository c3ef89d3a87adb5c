"""Every generative parameter in one place (dumped verbatim into manifest.json).

Day index 0 = 2021-01-01 ... 364 = 2021-12-31. Affiliate order is fixed: the six
retail affiliates (PDDE) first, then the six service affiliates (COP_U)."""

from __future__ import annotations

from loyalty_analytics.contract import LPOINT as _LPOINT
from loyalty_analytics.contract import RETAIL as _RETAIL
from loyalty_analytics.contract import SERVICE as _SERVICE

# The period and the affiliate codes come from the input contract.
YEAR_START = _LPOINT.period.start
N_DAYS = _LPOINT.period.days
RETAIL = list(_LPOINT.affiliate_codes(_RETAIL))
SERVICE = list(_LPOINT.affiliate_codes(_SERVICE))
AFFILIATES = RETAIL + SERVICE
N_RETAIL = len(RETAIL)
N_PRODUCTS = 1933
TASTE_DIM = 12
AGE_BANDS = ["20대", "30대", "40대", "50대", "60대", "70대"]
GENDERS = ["남성", "여성"]  # index 0 male, 1 female
ZONES = [f"Z{i:02d}" for i in range(1, 18)]
# share of customers / stores per zone (Z17 ~ capital region, Z16 next, ...)
ZONE_WEIGHTS = [0.03, 0.03, 0.02, 0.05, 0.02, 0.03, 0.03, 0.04, 0.03, 0.03, 0.06, 0.05, 0.04, 0.07, 0.06, 0.13, 0.28]

# ---- customer segments (latent) ------------------------------------------
# mix: weights over AFFILIATES (A01..A06, B01, C01, C02, D01, D02, E01)
SEGMENTS = [
    dict(
        name="L.Pay VIP",
        share=0.12,
        lam_mean=0.55,
        lam_shape=4.0,
        p_a=1.0,
        p_b=1500.0,
        spend_median=1.6,
        lpay_rate=0.85,
        lpay_use_mean=0.65,
        online_mean=0.10,
        mix=[0.21, 0.22, 0.21, 0.1, 0.03, 0.06, 0.017, 0.033, 0.017, 0.042, 0.017, 0.017],
        female=0.72,
        age_tilt=[0.6, 0.9, 1.3, 1.3, 0.9, 0.6],
    ),
    dict(
        name="frequent low-spend",
        share=0.30,
        lam_mean=0.60,
        lam_shape=3.0,
        p_a=1.0,
        p_b=700.0,
        spend_median=0.6,
        lpay_rate=0.28,
        lpay_use_mean=0.45,
        online_mean=0.06,
        mix=[0.02, 0.15, 0.26, 0.38, 0.01, 0.03, 0.0, 0.026, 0.017, 0.05, 0.026, 0.009],
        female=0.66,
        age_tilt=[1.6, 1.3, 0.9, 0.8, 0.8, 0.8],
    ),
    dict(
        name="occasional big-ticket",
        share=0.18,
        lam_mean=0.13,
        lam_shape=2.0,
        p_a=1.0,
        p_b=120.0,
        spend_median=2.2,
        lpay_rate=0.22,
        lpay_use_mean=0.45,
        online_mean=0.12,
        mix=[0.32, 0.21, 0.1, 0.05, 0.12, 0.07, 0.033, 0.017, 0.017, 0.017, 0.009, 0.017],
        female=0.58,
        age_tilt=[0.6, 0.9, 1.2, 1.3, 1.1, 0.9],
    ),
    dict(
        name="at risk / churning",
        share=0.20,
        lam_mean=0.40,
        lam_shape=2.5,
        p_a=2.0,
        p_b=90.0,
        spend_median=0.9,
        lpay_rate=0.12,
        lpay_use_mean=0.40,
        online_mean=0.08,
        mix=[0.11, 0.24, 0.23, 0.19, 0.03, 0.05, 0.009, 0.026, 0.017, 0.042, 0.026, 0.009],
        female=0.66,
        age_tilt=[0.8, 0.8, 1.0, 1.1, 1.3, 1.4],
    ),
    dict(
        name="online-oriented",
        share=0.20,
        lam_mean=0.30,
        lam_shape=3.0,
        p_a=1.0,
        p_b=300.0,
        spend_median=1.0,
        lpay_rate=0.36,
        lpay_use_mean=0.55,
        online_mean=0.35,
        mix=[0.09, 0.15, 0.1, 0.1, 0.03, 0.3, 0.026, 0.042, 0.026, 0.042, 0.026, 0.033],
        female=0.70,
        age_tilt=[1.2, 1.5, 1.2, 0.8, 0.5, 0.3],
    ),
]
BASE_AGE = [0.12, 0.21, 0.30, 0.22, 0.11, 0.04]
MIX_CONCENTRATION = 12.0  # Dirichlet concentration around the segment mix
SPEND_SIGMA = 0.35  # lognormal sigma of spend level within segment
LAM_SCALE = 0.55  # global multiplier on all purchase rates (volume calibration)
LAM_MIN = 0.01  # floor on lambda (trips/day)
NEW_CUSTOMER_SHARE = 0.25  # join during 2021 (first trip on first_active_date)
NO_PURCHASE_RATE = 39 / 29913  # registered customers with no purchase at all
TASTE_NOISE = 0.9  # individual taste noise (sd per dim, before scaling)
TASTE_SCALE = 1.8  # multiplies u_i . v_j
LPAY_PROMO_RATE = 0.06  # non-adopters who try L.Pay at A04 in December (promotion)
LPAY_PROMO_USE = 0.6  # their per-receipt L.Pay probability at A04 in December
LPAY_A04_DEC_BOOST = 3.0  # adopters' L.Pay probability multiplier at A04 in December
LPAY_OUTSIDE_RATE = 0.02  # L00/L01 payments per active day of an adopter
LPAY_OUTSIDE_ONLINE = 0.4  # share of outside payments that are L01 (online)
HOME_ZONE_PROB = 0.85
FAV_STORE_PROB = 0.75

# weekday weights Mon..Sun (2021-01-01 was a Friday)
WEEKDAY_WEIGHTS = [0.90, 0.88, 0.90, 0.95, 1.28, 1.35, 1.02]
FIRST_WEEKDAY = 4  # Friday

# hour profiles (relative weights 0..23)
_H_OFF = [
    0.1,
    0.05,
    0.02,
    0.02,
    0.02,
    0.05,
    0.2,
    0.5,
    1.0,
    1.5,
    2.5,
    3.5,
    4.0,
    4.0,
    4.2,
    4.5,
    5.0,
    6.6,
    6.8,
    5.5,
    4.0,
    2.5,
    1.0,
    0.3,
]
_H_DEPT = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1.0, 2.5, 3.5, 4.0, 4.5, 5.0, 5.5, 6.8, 6.9, 5.0, 2.0, 0, 0, 0]
_H_CVS = [
    1.2,
    0.9,
    0.6,
    0.4,
    0.3,
    0.5,
    1.2,
    2.5,
    3.5,
    3.0,
    3.0,
    3.5,
    4.5,
    3.5,
    3.0,
    3.0,
    3.5,
    5.2,
    5.5,
    5.0,
    4.5,
    4.0,
    3.0,
    2.0,
]
_H_ONLINE = [
    1.5,
    1.0,
    0.6,
    0.4,
    0.3,
    0.3,
    0.5,
    1.0,
    2.0,
    3.0,
    3.5,
    3.5,
    3.5,
    3.2,
    3.0,
    3.0,
    3.2,
    3.6,
    3.8,
    3.8,
    4.2,
    4.5,
    4.0,
    2.8,
]
_H_FNB = [
    0.2,
    0.1,
    0,
    0,
    0,
    0,
    0.1,
    0.5,
    1.0,
    1.0,
    1.5,
    4.0,
    6.0,
    4.0,
    2.0,
    2.0,
    2.5,
    4.5,
    6.0,
    5.5,
    3.0,
    1.5,
    0.8,
    0.4,
]
_H_LEISURE = [
    0.3,
    0.1,
    0,
    0,
    0,
    0,
    0,
    0.2,
    0.5,
    1.0,
    2.0,
    3.0,
    3.5,
    4.0,
    4.5,
    4.5,
    4.5,
    5.0,
    5.5,
    5.0,
    4.0,
    2.5,
    1.2,
    0.6,
]
HOUR_PROFILES = {
    "A01": _H_DEPT,
    "A02": _H_OFF,
    "A03": _H_OFF,
    "A04": _H_CVS,
    "A05": _H_DEPT,
    "A06": _H_ONLINE,
    "B01": _H_LEISURE,
    "C01": _H_LEISURE,
    "C02": _H_LEISURE,
    "D01": _H_FNB,
    "D02": _H_FNB,
    "E01": _H_OFF,
    "online": _H_ONLINE,
}

# retail affiliates: mean number of product draws per receipt (>=1), extra units
RETAIL_BASKET = {"A01": 1.8, "A02": 12.0, "A03": 6.5, "A04": 2.6, "A05": 1.15, "A06": 4.5}
EXTRA_UNITS = {"A01": 0.03, "A02": 0.30, "A03": 0.20, "A04": 0.15, "A05": 0.01, "A06": 0.15}
# probability that a receipt is online = customer online propensity x factor
ONLINE_FACTOR = {
    "A01": 0.5,
    "A02": 0.5,
    "A03": 0.4,
    "A04": 0.0,
    "A05": 0.7,
    "A06": None,
    "B01": 0.8,
    "C01": 0.4,
    "C02": 0.4,
    "D01": 0.05,
    "D02": 0.05,
    "E01": 0.5,
}
# service affiliates: median amount (KRW) and lognormal sigma
SERVICE_PRICE = {
    "B01": (150000, 0.5),
    "C01": (24000, 0.4),
    "C02": (32000, 0.5),
    "D01": (14000, 0.5),
    "D02": (9000, 0.5),
    "E01": (70000, 0.6),
}
SERVICE_ADVANCE_DAYS = 14  # online service bookings: vst_dt = de_dt + Geometric(1/this) - 1
STORES_PER_AFFILIATE = {
    "A01": 40,
    "A02": 140,
    "A03": 420,
    "A04": 1700,
    "A05": 110,
    "B01": 30,
    "C01": 70,
    "C02": 40,
    "D01": 600,
    "D02": 320,
    "E01": 60,
}

# repurchase cycle: a consumable j has a customer-specific need phase phi_ij; a draw of j
# outside its need window [phi, phi + w) mod cycle is kept only with prob NEED_OFF_KEEP.
NEED_WINDOW_FRAC = 0.3
NEED_WINDOW_MIN = 2
NEED_OFF_KEEP = 0.3
CYCLE_JITTER = 0.2  # product cycle = category cycle x lognormal(0, this)
PRICE_SIGMA_PRODUCT = 0.45
BASE_LOGIT_SD = 1.0
DURABLE_LOGIT = -1.5  # added to b_j of non-consumables (bought rarely)
# affiliate themes: extra log-weight of a major category at an affiliate (others 0)
AFFILIATE_THEMES = {
    "A01": {
        "여성의류": 1.2,
        "남성의류": 1.0,
        "화장품": 1.4,
        "명품": 1.0,
        "가방/잡화": 1.0,
        "신발": 0.8,
        "시계/주얼리": 0.6,
        "축산물": -0.5,
        "수산물": -0.5,
        "베이커리": -0.3,
        "반찬/델리": -0.2,
    },
    "A02": {"세제": 0.4, "화장지/위생지": 0.4, "주류": 0.3, "축산물": 0.3, "생활용품": 0.3},
    "A03": {
        "과일": 1.0,
        "채소": 1.2,
        "축산물": 0.9,
        "수산물": 0.8,
        "유제품": 0.6,
        "반찬/델리": 0.6,
        "화장지/위생지": -0.8,
        "구강/바디": -0.8,
        "의약외품": -0.8,
    },
    "A04": {
        "과자": 1.2,
        "음료": 0.9,
        "주류": 0.8,
        "즉석식품": 1.0,
        "라면/면류": 0.6,
        "유제품": 0.4,
        "화장지/위생지": -1.5,
        "구강/바디": -1.5,
        "전기/소모품": -1.2,
        "의약외품": -0.8,
    },
    "A05": {"휴대폰/태블릿": 0.8, "대형가전": 0.6, "전기/소모품": -0.5},
    "A06": {},
}


def as_dict() -> dict:
    return {k: v for k, v in globals().items() if k.isupper() and not k.startswith("_") and k != "YEAR_START"} | {
        "YEAR_START": YEAR_START.isoformat()
    }
