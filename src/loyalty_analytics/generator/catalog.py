"""Static catalogue: 58 major categories (Korean names) with their affiliates, price
level and repurchase cycle; 1,933 products; stores. Built from the seeded generator."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import params as P

# (major, affiliates, median price KRW, cycle days or None, breadth weight, middles)
CATEGORIES = [
    ("과일", "A02 A03 A06", 9000, 7, 3, ["사과/배", "감귤류", "바나나", "포도", "딸기/베리"]),
    ("채소", "A02 A03 A06", 3000, 6, 3, ["엽채류", "근채류", "버섯류", "양념채소"]),
    ("축산물", "A01 A02 A03 A06", 16000, 10, 3, ["돼지고기", "소고기", "닭고기", "계란"]),
    ("수산물", "A01 A02 A03", 13000, 14, 2, ["생선", "갑각류", "건어물", "해조류"]),
    ("쌀/잡곡", "A02 A03 A06", 28000, 45, 1, ["쌀", "잡곡"]),
    ("유제품", "A02 A03 A04 A06", 2600, 6, 3, ["우유", "요구르트", "치즈/버터"]),
    ("냉장식품", "A02 A03 A04", 4200, 10, 2, ["두부/콩나물", "햄/소시지", "어묵/맛살"]),
    ("냉동식품", "A02 A03 A06", 6500, 21, 2, ["만두", "냉동간편식", "아이스크림"]),
    ("즉석식품", "A02 A03 A04 A06", 3600, 8, 3, ["즉석밥", "도시락", "컵밥/국"]),
    ("라면/면류", "A02 A03 A04 A06", 4000, 14, 2, ["봉지라면", "컵라면", "국수/파스타"]),
    ("과자", "A02 A03 A04 A06", 1800, 7, 4, ["스낵", "비스킷/쿠키", "초콜릿/캔디"]),
    ("음료", "A02 A03 A04 A06", 1500, 5, 4, ["탄산음료", "커피음료", "주스", "생수"]),
    ("주류", "A02 A03 A04", 3200, 10, 3, ["맥주", "소주", "와인", "전통주"]),
    ("조미료/양념", "A02 A03 A06", 4800, 60, 2, ["장류", "소스", "식용유"]),
    ("커피/차", "A02 A03 A06", 9000, 30, 2, ["원두커피", "인스턴트커피", "녹차/홍차"]),
    ("건강식품", "A01 A02 A06", 38000, 60, 2, ["비타민", "홍삼", "유산균"]),
    ("베이커리", "A01 A02 A03 A04", 3800, 5, 2, ["식빵", "케이크/디저트"]),
    ("반찬/델리", "A01 A02 A03", 6500, 7, 2, ["반찬", "델리", "초밥/회"]),
    ("유아식품", "A02 A06", 16000, 14, 1, ["분유", "이유식"]),
    ("견과/건과", "A02 A03 A06", 11000, 30, 1, ["견과류", "건과일"]),
    ("세제", "A02 A06", 9500, 45, 2, ["세탁세제", "주방세제", "섬유유연제"]),
    ("화장지/위생지", "A02 A03 A04 A06", 12000, 30, 2, ["화장지", "물티슈", "생리용품"]),
    ("구강/바디", "A02 A03 A04 A06", 6500, 40, 2, ["치약/칫솔", "샴푸/린스", "바디워시"]),
    ("주방용품", "A02 A06", 16000, None, 2, ["조리도구", "식기", "밀폐용기"]),
    ("생활용품", "A02 A06", 8500, None, 2, ["수납정리", "청소용품", "욕실용품"]),
    ("반려동물", "A02 A06", 21000, 30, 1, ["사료", "반려간식", "반려용품"]),
    ("기저귀/유아용품", "A02 A06", 32000, 21, 1, ["기저귀", "유아용품"]),
    ("문구/완구", "A02 A06", 12000, None, 2, ["문구", "완구"]),
    ("침구/홈패션", "A01 A02 A06", 65000, None, 1, ["침구", "커튼", "쿠션/러그"]),
    ("가구/인테리어", "A01 A06", 160000, None, 1, ["가구", "조명", "인테리어소품"]),
    ("자동차용품", "A02 A06", 22000, None, 1, ["세차용품", "차량용품"]),
    ("스포츠/레저", "A01 A02 A06", 55000, None, 2, ["운동용품", "캠핑", "골프용품"]),
    ("여성의류", "A01 A06", 150000, None, 3, ["원피스", "블라우스", "여성아우터", "여성니트"]),
    ("남성의류", "A01 A06", 140000, None, 2, ["정장", "셔츠", "남성아우터", "남성니트"]),
    ("캐주얼/진", "A01 A02 A06", 70000, None, 2, ["티셔츠", "청바지", "맨투맨"]),
    ("아동의류", "A01 A02 A06", 45000, None, 1, ["유아복", "아동복"]),
    ("스포츠의류", "A01 A06", 90000, None, 1, ["트레이닝복", "기능성의류"]),
    ("속옷/양말", "A01 A02 A06", 18000, None, 2, ["속옷", "양말", "잠옷"]),
    ("신발", "A01 A06", 110000, None, 2, ["운동화", "구두", "샌들"]),
    ("가방/잡화", "A01 A06", 120000, None, 2, ["가방", "지갑", "모자/스카프"]),
    ("명품", "A01", 1300000, None, 1, ["명품가방", "명품의류", "명품잡화"]),
    ("시계/주얼리", "A01", 420000, None, 1, ["시계", "주얼리"]),
    ("화장품", "A01 A06", 62000, 60, 3, ["스킨케어", "메이크업", "향수"]),
    ("헤어/바디케어", "A01 A02 A06", 16000, 45, 1, ["헤어케어", "바디케어"]),
    ("안경/선글라스", "A01", 160000, None, 1, ["안경", "선글라스"]),
    ("대형가전", "A05", 1300000, None, 2, ["냉장고", "세탁기", "TV"]),
    ("주방가전", "A02 A05 A06", 160000, None, 1, ["전기밥솥", "전자레인지", "커피머신"]),
    ("생활가전", "A02 A05 A06", 130000, None, 1, ["청소기", "다리미", "공기청정기"]),
    ("계절가전", "A05 A06", 210000, None, 1, ["에어컨", "선풍기", "난방기"]),
    ("휴대폰/태블릿", "A05", 950000, None, 1, ["휴대폰", "태블릿"]),
    ("컴퓨터/주변기기", "A05 A06", 320000, None, 1, ["노트북", "모니터", "주변기기"]),
    ("음향/영상", "A05 A06", 160000, None, 1, ["이어폰", "스피커"]),
    ("카메라", "A05", 520000, None, 1, ["디지털카메라", "카메라용품"]),
    ("게임", "A05 A06", 60000, None, 1, ["게임기", "게임타이틀"]),
    ("전기/소모품", "A02 A04 A05 A06", 5200, 60, 1, ["건전지", "전구", "케이블"]),
    ("도서/음반", "A02 A06", 15000, None, 1, ["도서", "음반"]),
    ("선물세트", "A01 A02 A06", 55000, None, 1, ["명절선물", "과일선물"]),
    ("의약외품", "A02 A03 A04 A06", 5000, 30, 1, ["마스크", "밴드/소독"]),
]


@dataclass
class Catalog:
    # products (index j = 0..N_PRODUCTS-1)
    product_code: np.ndarray  # str
    product_name: np.ndarray  # str
    major: np.ndarray  # int index into majors
    middle: np.ndarray  # int index into middles
    majors: list
    middles: list  # names
    middle_major: np.ndarray  # int
    affiliate_mask: np.ndarray  # bool [N_PRODUCTS, N_RETAIL]
    price: np.ndarray  # float KRW
    cycle: np.ndarray  # float days, nan if not consumable
    base_logit: np.ndarray  # b_j
    taste: np.ndarray  # v_j [N_PRODUCTS, d]
    theme: np.ndarray  # [N_PRODUCTS, N_RETAIL] affiliate theme log-weight of j's category
    phase_k: np.ndarray  # need-phase multiplier (int-valued float)
    phase_b: np.ndarray  # need-phase offset U(0,1)
    # stores
    store_code: np.ndarray  # str
    store_aff: np.ndarray  # int index into AFFILIATES
    store_zone: np.ndarray  # int index into ZONES
    store_zone_mcls: np.ndarray  # str


def build_catalog(rng: np.random.Generator) -> Catalog:
    d = P.TASTE_DIM
    n_major = len(CATEGORIES)
    weights = np.array([c[4] for c in CATEGORIES], dtype=float)
    # products per major: 10 each + the rest by breadth weight (deterministic largest remainder)
    rest = P.N_PRODUCTS - 10 * n_major
    share = weights / weights.sum() * rest
    counts = 10 + np.floor(share).astype(int)
    short = P.N_PRODUCTS - counts.sum()
    counts[np.argsort(-(share - np.floor(share)), kind="stable")[:short]] += 1

    middles, middle_major = [], []
    for k, c in enumerate(CATEGORIES):
        for m in c[5]:
            middles.append(m)
            middle_major.append(k)
    assert len(set(middles)) == len(middles)
    middle_major = np.array(middle_major)

    major_vec = rng.normal(0, 1, (n_major, d))
    middle_vec = major_vec[middle_major] + rng.normal(0, 0.6, (len(middles), d))

    major = np.repeat(np.arange(n_major), counts)
    middle = np.empty(P.N_PRODUCTS, dtype=np.int64)
    for k in range(n_major):  # loop over 58 categories, not over products
        idx = np.flatnonzero(major == k)
        mids = np.flatnonzero(middle_major == k)
        middle[idx] = mids[rng.integers(0, len(mids), len(idx))]
    # order products by (major, middle) so codes run through the hierarchy
    order = np.lexsort((middle, major))
    major, middle = major[order], middle[order]

    taste = (middle_vec[middle] + rng.normal(0, 0.45, (P.N_PRODUCTS, d))) / np.sqrt(d)
    base_logit = rng.normal(0, P.BASE_LOGIT_SD, P.N_PRODUCTS)

    med = np.array([c[2] for c in CATEGORIES], dtype=float)
    price = med[major] * np.exp(rng.normal(0, P.PRICE_SIGMA_PRODUCT, P.N_PRODUCTS))
    price = np.maximum(100.0, np.round(price / 10.0) * 10.0)

    cyc = np.array([np.nan if c[3] is None else c[3] for c in CATEGORIES], dtype=float)
    cycle = cyc[major] * np.exp(rng.normal(0, P.CYCLE_JITTER, P.N_PRODUCTS))
    cycle = np.where(np.isnan(cycle), np.nan, np.maximum(3.0, np.round(cycle)))
    base_logit = base_logit + np.where(np.isnan(cycle), P.DURABLE_LOGIT, 0.0)

    # affiliates: each of the category's affiliates carries the product with prob 0.75
    # (A06 online mall 0.9); at least the category's first affiliate.
    cat_aff = np.zeros((n_major, P.N_RETAIL), dtype=bool)
    for k, c in enumerate(CATEGORIES):
        for a in c[1].split():
            cat_aff[k, P.RETAIL.index(a)] = True
    carry_p = np.where(np.arange(P.N_RETAIL) == 5, 0.9, 0.75)
    mask = cat_aff[major] & (rng.random((P.N_PRODUCTS, P.N_RETAIL)) < carry_p)
    first = cat_aff[major].argmax(axis=1)
    none = ~mask.any(axis=1)
    mask[np.flatnonzero(none), first[none]] = True

    code = np.array([f"PD{j + 1:04d}" for j in range(P.N_PRODUCTS)])
    # names: "<middle> <running number within middle>"
    rank_in_mid = np.zeros(P.N_PRODUCTS, dtype=np.int64)
    _, first_idx, inv = np.unique(middle, return_index=True, return_inverse=True)
    rank_in_mid = np.arange(P.N_PRODUCTS) - first_idx[inv] + 1
    names = np.array([f"{middles[m]} {r:03d}" for m, r in zip(middle, rank_in_mid)])
    assert len(set(names.tolist())) == P.N_PRODUCTS

    theme_cat = np.zeros((n_major, P.N_RETAIL))
    names_major = [c[0] for c in CATEGORIES]
    for a, th in P.AFFILIATE_THEMES.items():
        for m, v in th.items():
            if m in names_major:
                theme_cat[names_major.index(m), P.RETAIL.index(a)] = v
    theme = theme_cat[major]
    s_code, s_aff, s_zone, s_mcls = _build_stores(rng)
    return Catalog(
        code,
        names,
        major,
        middle,
        [c[0] for c in CATEGORIES],
        middles,
        middle_major,
        mask,
        price,
        cycle,
        base_logit,
        taste,
        theme,
        rng.integers(1000, 100000, P.N_PRODUCTS).astype(np.float64),
        rng.random(P.N_PRODUCTS),
        s_code,
        s_aff,
        s_zone,
        s_mcls,
    )


def _build_stores(rng):
    zw = np.array(P.ZONE_WEIGHTS) / np.sum(P.ZONE_WEIGHTS)
    codes, affs, zones = [], [], []
    for a, n in P.STORES_PER_AFFILIATE.items():
        # one store in every zone, the rest spread by zone weight
        z = np.concatenate([np.arange(len(P.ZONES)), rng.choice(len(P.ZONES), n - len(P.ZONES), p=zw)])
        z = np.sort(z)
        codes += [f"{a}{i + 1:04d}" for i in range(n)]
        affs += [P.AFFILIATES.index(a)] * n
        zones.append(z)
    zones = np.concatenate(zones)
    mcls_n = rng.integers(1, 26, len(zones))  # ~25 sub-districts per zone
    mcls = np.array([f"{P.ZONES[z]}{m:03d}" for z, m in zip(zones, mcls_n)])
    return np.array(codes), np.array(affs), zones, mcls
