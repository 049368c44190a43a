"""Plausible Chinese names for a synthetic Pudong: subdistricts, roads, estates, people, units.

Pure data and small pickers; no Django. The subdistrict list and their rough centres follow
浦东新区's real 12 街道 and 24 镇 (centres approximate, WGS-84), so the demo map looks right;
everything below the subdistrict is invented.
"""

from __future__ import annotations

import random

DISTRICT_CODE = "310115"
DISTRICT_NAME = "浦东新区"

# (name, kind, approximate centre lng, lat). 陆家嘴街道 first: the street scale uses it alone.
SUBDISTRICTS: tuple[tuple[str, str, float, float], ...] = (
    ("陆家嘴街道", "street", 121.508, 31.236),
    ("潍坊新村街道", "street", 121.530, 31.226),
    ("塘桥街道", "street", 121.522, 31.210),
    ("洋泾街道", "street", 121.548, 31.246),
    ("浦兴路街道", "street", 121.583, 31.276),
    ("金杨新村街道", "street", 121.573, 31.256),
    ("沪东新村街道", "street", 121.597, 31.287),
    ("东明路街道", "street", 121.506, 31.158),
    ("花木街道", "street", 121.556, 31.214),
    ("上钢新村街道", "street", 121.483, 31.186),
    ("南码头路街道", "street", 121.507, 31.196),
    ("周家渡街道", "street", 121.492, 31.172),
    ("高桥镇", "town", 121.585, 31.345),
    ("高东镇", "town", 121.634, 31.322),
    ("高行镇", "town", 121.617, 31.302),
    ("曹路镇", "town", 121.682, 31.272),
    ("金桥镇", "town", 121.612, 31.262),
    ("唐镇", "town", 121.662, 31.215),
    ("合庆镇", "town", 121.742, 31.238),
    ("张江镇", "town", 121.603, 31.200),
    ("北蔡镇", "town", 121.552, 31.180),
    ("三林镇", "town", 121.505, 31.138),
    ("康桥镇", "town", 121.601, 31.142),
    ("川沙新镇", "town", 121.703, 31.182),
    ("周浦镇", "town", 121.582, 31.102),
    ("航头镇", "town", 121.592, 31.040),
    ("新场镇", "town", 121.643, 31.022),
    ("祝桥镇", "town", 121.762, 31.122),
    ("宣桥镇", "town", 121.682, 31.000),
    ("惠南镇", "town", 121.762, 31.052),
    ("老港镇", "town", 121.850, 31.022),
    ("大团镇", "town", 121.732, 30.962),
    ("万祥镇", "town", 121.802, 30.952),
    ("书院镇", "town", 121.872, 30.952),
    ("泥城镇", "town", 121.802, 30.902),
    ("南汇新城镇", "town", 121.922, 30.902),
)

# A convex outline of the district (WGS-84): the Huangpu bank on the west, the coast on the east.
DISTRICT_OUTLINE: tuple[tuple[float, float], ...] = (
    (121.500, 31.385), (121.600, 31.390), (121.960, 30.980), (121.950, 30.860),
    (121.780, 30.850), (121.560, 30.980), (121.455, 31.150), (121.470, 31.250),
)
# 陆家嘴街道 alone, for the street scale (convex, inside the outline).
LUJIAZUI_OUTLINE: tuple[tuple[float, float], ...] = (
    (121.492, 31.236), (121.497, 31.244), (121.512, 31.245), (121.529, 31.238),
    (121.530, 31.224), (121.516, 31.220), (121.500, 31.222),
)
LUJIAZUI_CENTRE = (121.508, 31.236)

ROADS = (
    "浦东南路", "东方路", "崂山路", "张杨路", "源深路", "福山路", "浦电路", "潍坊路", "商城路",
    "世纪大道", "银城中路", "陆家嘴环路", "峨山路", "南泉路", "乳山路", "桃林路", "杨高南路",
    "锦绣路", "花木路", "龙阳路", "川沙路", "华夏路", "沪南路", "栖霞路", "即墨路", "东昌路",
    "浦明路", "松林路", "文登路", "灵山路", "金桥路", "博山路", "昌邑路", "巨野路", "五莲路",
    "德州路", "上南路", "成山路", "齐河路", "云台路", "杨思路", "长清路", "高科西路", "祖冲之路",
    "秀浦路", "周祝公路", "沪南公路", "航三路", "人民东路", "城南路", "拱极路", "川南奉公路",
    "东大公路", "新元南路", "环湖西路", "申江路", "凌河路", "博兴路", "居家桥路", "金杨路",
)
STEM_A = "锦绣华康景明阳春晨东方金银城河滨江海浦新林泉松竹梅兰桂翠碧云月星福祥瑞安宁和泰丰德仁恒嘉盛天峰悦"
STEM_B = "苑园城庭湾府邸居轩阁港湖馨怡雅秀逸晖汇悦源都舍庐荟"
SUFFIXES = {
    "old_public": ("新村", "一村", "二村", "三村", "四村", "小区"),
    "resettlement": ("苑", "家园", "佳苑", "新苑", "基地"),
    "affordable": ("公寓", "雅苑", "新城", "家园", "人才公寓"),
    "commodity": ("花园", "公寓", "名邸", "华庭", "苑", "小区", "滨江园", "大厦"),
    "urban_village": ("宅", "村宅", "老宅"),
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玲建国志红文斌海燕萍琴辉鹏飞雪梅晓东晨"
INDUSTRIES = ("科技", "信息技术", "金融服务", "贸易", "物业管理", "餐饮管理", "医药", "文化传媒",
              "建筑工程", "物流", "教育科技", "咨询")
TOWERS = ("金融中心", "国际大厦", "商务广场", "时代大厦", "中心大厦", "财富大厦", "科技园")
SOCIAL_ORGS = ("社区志愿者协会", "睦邻中心", "老年协会", "青少年服务社", "社区基金会",
               "社工服务社", "邻里调解工作室")


def short(subdistrict_name: str) -> str:
    """陆家嘴街道 → 陆家嘴, 川沙新镇 → 川沙, 唐镇 → 唐镇 (a one-character stem keeps 镇)."""
    for suffix in ("街道", "新镇", "镇"):
        if subdistrict_name.endswith(suffix):
            stem = subdistrict_name[: -len(suffix)]
            return stem if len(stem) >= 2 else subdistrict_name
    return subdistrict_name


def stem(rng: random.Random) -> str:
    return rng.choice(STEM_A) + rng.choice(STEM_A + STEM_B)


def person(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def mobile(rng: random.Random) -> str:
    return rng.choice(("139", "138", "137", "136", "135", "158", "159", "186", "189", "177")) + (
        f"{rng.randrange(10**8):08d}"
    )


def landline(rng: random.Random) -> str:
    return f"021-{rng.choice('5658')}{rng.randrange(10**7):07d}"
