"""Deterministic synthetic work-order texts (工单) for tests, the demo and the bench.

No labelled public data set is available offline, so this writes hotline/grid-patrol style
texts: opener × place × time × detail × closer, with typing noise, a mild class imbalance,
confusable pairs that share some wording (噪声扰民 vs 施工扰民, 乱堆杂物 vs 占用消防通道,
暴露垃圾 vs 垃圾站满溢, 店外经营 vs 占道经营 …) and off-topic consultations (99001, this
platform's own code). The same ``seed`` gives the same texts on every machine.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

CATEGORY_NAMES: dict[str, str] = {
    "01001": "供水井盖异常", "01037": "路灯异常", "06001": "私搭乱建", "06010": "暴露垃圾",
    "06011": "积存垃圾渣土", "06012": "道路不洁", "06013": "道路破损", "06017": "绿地脏乱",
    "06027": "油烟污染", "06028": "噪声扰民", "06036": "乱堆杂物", "06041": "垃圾未分类",
    "06042": "垃圾站(箱)满溢", "06045": "非法占绿毁绿", "07001": "非法小广告",
    "07002": "街头散发广告", "07003": "违规户外广告", "08001": "施工扰民", "08016": "无证建设",
    "09001": "无照经营游商", "09005": "店外经营", "09006": "占道经营", "09009": "机动车乱停放",
    "09010": "非机动车乱停放", "09011": "共享单车乱象", "09012": "占用消防通道",
    "10001": "道路积雪、结冰", "10002": "架空线缆脱落", "99001": "政策咨询",
}

# Category → details. "{t}" inside a detail takes a time phrase.
DETAILS: dict[str, tuple[str, ...]] = {
    "01001": ("的井盖不见了", "的井盖破损了", "有个井盖松动，车开过去哐哐响", "路边下水道盖子塌陷下去一块",
              "人行道上有个窨井没有盖子，很危险", "的雨水井盖翘起来了，差点绊倒老人"),
    "01037": ("的路灯坏了好几天", "的路灯晚上不亮", "路灯一闪一闪的", "路灯杆被车撞歪了",
              "一带{t}黑漆漆的，灯都不亮", "的景观灯全灭了"),
    "06001": ("有住户在楼顶搭建阳光房", "有人把阳台往外扩建", "有人在绿地上搭了个棚子",
              "有人违章搭建彩钢板房", "一楼住户在院子里砌墙围起来", "有人在屋顶加盖了一层"),
    "06010": ("路边有一堆生活垃圾没人清理", "有人把垃圾扔在花坛边上", "有人随手乱扔垃圾袋",
              "垃圾散落一地，发臭了", "马路边有人倒了一大袋垃圾", "街角有一摊垃圾，苍蝇乱飞"),
    "06011": ("堆了大量建筑垃圾", "装修垃圾堆了一个多月没运走", "渣土堆在路边，刮风满天灰",
              "夜里有人偷倒渣土", "碎砖头水泥块堆成小山", "空地上被倾倒了很多工程渣土"),
    "06012": ("路面很脏，全是泥", "路面有大片油污", "路上撒满了黄沙", "路面洒了很多泥浆，车一过到处溅",
              "马路没人扫，落叶烟头很多", "路面上有很多狗屎没人清扫"),
    "06013": ("路面有个大坑", "人行道砖松动翘起", "路面塌陷了", "马路坑坑洼洼，下雨积水",
              "柏油路面开裂", "人行道缺了好几块砖，老人容易摔"),
    "06017": ("绿化带里全是垃圾", "草坪上扔满了塑料袋和饮料瓶", "绿地里有人倒剩饭剩菜",
              "绿化带杂草丛生、脏乱不堪", "花坛里狗粪没人清理", "绿地里堆着烂泥和枯枝"),
    "06027": ("的饭店油烟直接排到居民窗口", "烧烤店油烟很大，熏得窗户都不敢开",
              "餐馆没有装油烟净化器", "小吃店排烟管道对着住宅楼", "烧烤摊烟熏火燎",
              "楼下面馆的油烟味{t}飘进家里"),
    "06028": ("{t}广场舞音响声音太大", "楼下酒吧{t}很吵", "有人{t}在小区里大声喧哗",
              "KTV声音太响，吵得睡不着", "商铺门口喇叭循环播放，太吵了", "邻居家{t}装修砸墙很吵",
              "楼上住户{t}蹦跳拖椅子"),
    "06036": ("楼道里堆满了杂物", "有人在公共走廊堆放纸箱", "楼梯间放着旧家具",
              "居民把废品堆在楼道", "地下室通道堆满了旧自行车和杂物", "邻居在过道上堆了好多花盆和鞋柜"),
    "06041": ("垃圾箱房干湿垃圾混在一起", "居民不分类乱投", "湿垃圾桶里全是塑料袋",
              "垃圾分类没人监督，混投严重", "收运车把分好类的垃圾混装", "可回收物和有害垃圾倒在一起"),
    "06042": ("垃圾桶满了没人清运", "垃圾箱房满出来了，臭气熏天", "垃圾桶已经塞不下了",
              "垃圾房两天没清运，堆到门外", "果壳箱满得往外溢", "垃圾箱盖子都盖不上了"),
    "06045": ("有人在绿地里种菜", "有居民砍了小区的树", "绿化带被铲掉改成停车位",
              "有人把草坪围起来自用", "树木被人剥皮", "公共绿地被圈起来养鸡"),
    "07001": ("墙上贴满了小广告", "电线杆上贴着办证的广告", "楼道里到处是开锁疏通的小贴纸",
              "有人用喷漆在墙上喷电话号码", "单元门上贴满了牛皮癣", "公交站牌上被贴了招租纸条"),
    "07002": ("有人拦着路人发传单", "地铁口有人派发健身卡传单", "有人往车窗上塞卡片",
              "培训机构在路口发宣传单", "有人挨家挨户往门缝里塞广告单", "商场门口有人强行塞优惠券"),
    "07003": ("挂了一条很大的横幅", "楼顶的广告牌摇摇欲坠", "店家在人行道上摆了广告立牌",
              "新装的大型广告牌没有审批", "LED广告屏晚上太亮，照得睡不着", "店招做得太大，挡住了窗户"),
    "08001": ("旁边工地{t}还在施工，噪音很大", "工地夜间施工打桩，吵得睡不着", "建筑工地凌晨浇混凝土",
              "地铁施工工地晚上十点以后还在作业", "工地渣土车进出，噪音扬尘很大",
              "修路的机器{t}轰隆隆响个不停"),
    "08016": ("有个工地没有挂施工许可证", "在盖房子，没看到任何审批公示", "有单位擅自动工建设",
              "未取得规划许可就开始施工", "空地上在建一栋楼，疑似无证", "有人私自开挖地基建房"),
    "09001": ("有流动摊贩推车卖水果", "有人骑三轮车叫卖", "无证小贩在路边卖早点",
              "有人在地上铺块布卖东西，城管一走又回来", "流动小摊贩到处跑", "有人开着面包车卖海鲜"),
    "09005": ("水果店把货架摆到门外", "饭店在门口摆桌子吃饭", "修车铺在店门口修车",
              "小超市门口堆满货物", "理发店把椅子搬到门外", "五金店把商品摆到人行道上"),
    "09006": ("晚上有人摆摊，占了整条人行道", "早市摊位占了机动车道", "路边小吃摊一直排到马路中间",
              "有人在桥下摆地摊", "夜宵摊把桌椅摆在马路上", "菜农在路口摆摊卖菜，堵住交通"),
    "09009": ("有辆小轿车一直停在人行道上", "门口乱停车，把路堵死了", "有车停在斑马线上",
              "有车停在小区出入口", "好多车违停在双黄线边", "有辆僵尸车停了半年没人管"),
    "09010": ("电动自行车乱停，把人行道堵住了", "电瓶车停在楼道里充电", "自行车横七竖八停在公交站",
              "快递三轮车乱停", "电动车停在盲道上", "外卖电瓶车把门口堵住了"),
    "09011": ("共享单车堆成山", "地铁口单车乱停，走都走不过去", "一大堆哈啰美团单车倒在地上",
              "损坏的共享单车没人回收", "共享单车堵住了小区门口", "共享电单车扔在河边绿地里"),
    "09012": ("有车堵在消防通道上", "消防车道被杂物占用", "楼道堆物堵塞安全出口",
              "生命通道上停满了车", "消防通道被上锁的铁门封住", "消防登高场地被划成了停车位"),
    "10001": ("路面结冰，好几个人滑倒了", "积雪没人清扫", "桥面结了一层冰", "人行道上的雪冻成了冰",
              "下雪后坡道很滑", "台阶上全是冰碴子"),
    "10002": ("有电线垂下来快碰到头了", "通信线缆掉在地上", "电线杆上的线断了垂在路中间",
              "空中的线缆乱成一团，有一根耷拉下来", "居民私拉的飞线横跨马路", "光缆从楼上掉下来挂在树上"),
}

CONSULTATIONS: tuple[str, ...] = (
    "请问居住证怎么办理？", "想咨询一下老年人助餐点在哪里", "孩子入学需要准备什么材料？",
    "请问医保报销比例是多少", "退休金什么时候发放？", "公租房申请条件是什么？",
    "想问一下社区有没有书法班", "请问独生子女证明在哪里开", "高龄津贴怎么申请？",
    "想了解一下加装电梯的补贴政策", "请问社区卫生服务中心周末开门吗",
)

# Confusable pairs share a few ambiguous details (real hotline texts are often this vague).
SHARED: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("06028", "08001"), ("{t}很吵，吵得睡不着", "噪音太大了，没法休息")),
    (("06010", "06042"), ("垃圾堆在垃圾桶旁边没人管", "垃圾到处都是")),
    (("09005", "09006"), ("店门口摆摊占道", "商贩把东西摆到了路上")),
    (("06036", "09012"), ("楼道里堆了很多东西", "通道被东西堵住了")),
    (("09009", "09012"), ("车子乱停堵住了通道",)),
    (("07001", "07002"), ("到处是广告",)),
    (("06001", "08016"), ("有人在偷偷盖房子",)),
)
SHARED_RATE = 0.12

# Relative frequency: parking, rubbish and noise dominate real hotline traffic.
WEIGHTS: dict[str, float] = {c: 1.0 for c in CATEGORY_NAMES}
WEIGHTS.update({"09009": 3.0, "06010": 2.5, "06028": 2.5, "08001": 1.5, "06036": 1.5,
                "09006": 1.5, "99001": 1.5, "10001": 0.5, "06045": 0.6})

ROADS = ("张杨路", "浦东南路", "崂山路", "东方路", "杨高南路", "锦绣路", "民生路", "源深路",
         "峨山路", "潍坊路", "浦电路", "世纪大道", "德州路", "成山路", "上南路", "灵岩南路")
ESTATES = ("锦绣", "阳光", "金桥", "东方", "明珠", "惠南", "张江", "花木", "潍坊", "塘桥",
           "御桥", "康桥", "三林", "北蔡", "世纪", "浦江", "高行", "海富", "东明", "德州")
SUFFIXES = ("苑", "新村", "小区", "花园", "公寓", "家园", "一村", "二村", "三村", "名邸")
TIMES = ("", "最近", "每天晚上", "今天早上", "这几天", "周末", "凌晨两点多", "晚上十一点后", "一直")
OPENERS = ("", "", "您好，", "市民来电反映：", "网格员巡查发现：", "居民通过家园码反映：",
           "你好，我要投诉，", "热线转来：", "有居民反映，")
CLOSERS = ("", "", "请尽快处理。", "希望有关部门管一管。", "已经持续很久了。", "多次反映没有解决。",
           "谢谢！", "影响居民生活。", "麻烦派人来看看。")
FRAMES = ("{o}{p}{d}，{c}", "{o}{t}{p}{d}。{c}", "{o}{d}，地址：{p}。{c}", "{o}反映{p}{d}，{c}",
          "{o}在{p}，{d}。{c}")


@dataclass(frozen=True, slots=True)
class LabelledText:
    text: str
    label: str


def _place(rng: random.Random) -> str:
    estate = rng.choice(ESTATES) + rng.choice(SUFFIXES)
    road = rng.choice(ROADS)
    kind = rng.randrange(6)
    if kind == 0:
        return estate
    if kind == 1:
        return f"{estate}{rng.randint(1, 60)}号楼"
    if kind == 2:
        return f"{road}{rng.randint(1, 2000)}号"
    if kind == 3:
        return f"{road}{rng.randint(1, 800)}弄{estate}门口"
    if kind == 4:
        return f"{road}与{rng.choice(ROADS)}交叉口"
    return f"{estate}东门"


def _noise(text: str, rng: random.Random) -> str:
    chars = list(text)
    if len(chars) > 8 and rng.random() < 0.10:  # a dropped character
        del chars[rng.randrange(len(chars))]
    if len(chars) > 8 and rng.random() < 0.05:  # two characters swapped
        i = rng.randrange(len(chars) - 1)
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    out = "".join(chars)
    if rng.random() < 0.15:  # full-width punctuation typed as half-width, or the reverse
        out = out.replace("，", ",") if rng.random() < 0.5 else out.replace("。", ".")
    return out


def _detail(code: str, rng: random.Random) -> str:
    if rng.random() < SHARED_RATE:
        pools = [ds for codes, ds in SHARED if code in codes]
        if pools:
            return rng.choice(rng.choice(pools))
    return rng.choice(DETAILS[code])


def make_text(code: str, rng: random.Random) -> str:
    """One synthetic work-order text of category ``code``."""
    if code == "99001":
        q = rng.choice(CONSULTATIONS)
        text = rng.choice((f"{q}", f"我住在{_place(rng)}，{q}", f"{rng.choice(OPENERS)}{q}"))
        return _noise(text, rng)
    d = _detail(code, rng).replace("{t}", rng.choice(TIMES))
    text = rng.choice(FRAMES).format(o=rng.choice(OPENERS), t=rng.choice(TIMES), p=_place(rng),
                                     d=d, c=rng.choice(CLOSERS))
    return _noise(text.rstrip("，"), rng)


def generate(n: int, *, seed: int = 0, label_noise: float = 0.0,
             categories: Sequence[str] | None = None) -> list[LabelledText]:
    """``n`` labelled texts drawn with the category weights; same seed, same texts.

    ``label_noise`` is the share of rows whose label is replaced by a random other category
    (real histories carry mis-filed cases). Refuses unknown categories and a negative ``n``.
    """
    if n < 0:
        raise ValueError("n must be non-negative")
    codes = list(categories) if categories is not None else list(CATEGORY_NAMES)
    unknown = [c for c in codes if c not in CATEGORY_NAMES]
    if unknown:
        raise ValueError(f"unknown categories: {unknown}")
    rng = random.Random(seed)
    noise_rng = random.Random(f"label-noise-{seed}")  # apart, so noise leaves texts unchanged
    weights = [WEIGHTS[c] for c in codes]
    rows: list[LabelledText] = []
    for _ in range(n):
        code = rng.choices(codes, weights)[0]
        text = make_text(code, rng)
        label = code
        if noise_rng.random() < label_noise:
            label = noise_rng.choice([c for c in codes if c != code])
        rows.append(LabelledText(text=text, label=label))
    return rows
