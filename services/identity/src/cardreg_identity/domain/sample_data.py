"""Word lists for synthetic people: real townships, common village names, common names.

Only used by `synthetic`; every Chinese character here is in Big5 (a test checks it).
"""

from __future__ import annotations

# Real townships, with the city or county as the household register writes them.
TOWNSHIPS: tuple[str, ...] = (
    "臺北市大安區", "臺北市中正區", "臺北市信義區", "臺北市士林區", "臺北市內湖區",
    "臺北市萬華區", "臺北市文山區", "臺北市松山區", "新北市板橋區", "新北市三重區",
    "新北市中和區", "新北市永和區", "新北市新莊區", "新北市新店區", "新北市淡水區",
    "桃園市桃園區", "桃園市中壢區", "桃園市龜山區", "臺中市西屯區", "臺中市北屯區",
    "臺中市南屯區", "臺中市豐原區", "臺中市大安區", "臺南市東區", "臺南市永康區",
    "臺南市安平區", "高雄市三民區", "高雄市苓雅區", "高雄市左營區", "高雄市鳳山區",
    "基隆市仁愛區", "新竹市東區", "新竹縣竹北市", "苗栗縣頭份市", "彰化縣彰化市",
    "彰化縣員林市", "彰化縣鹿港鎮", "南投縣埔里鎮", "雲林縣斗六市", "嘉義市西區",
    "嘉義縣民雄鄉", "屏東縣屏東市", "宜蘭縣宜蘭市", "宜蘭縣羅東鎮", "花蓮縣花蓮市",
    "花蓮縣吉安鄉", "臺東縣臺東市", "澎湖縣馬公市", "金門縣金城鎮",
)  # fmt: skip

# Names that recur in villages (村) and urban villages (里) all over Taiwan.
# fmt: off
VILLAGE_STEMS: tuple[str, ...] = (
    "中正", "中山", "仁愛", "民生", "民權", "民族", "忠孝", "信義", "和平", "復興", "光復", "成功",
    "建國", "新生", "文化", "福德", "長安", "永安", "安和", "福興", "東興", "西門", "南門", "北門",
    "新興", "中興", "大同", "自強", "太平", "三民", "五福", "龍山", "福安", "平等", "長春", "光明",
    "正義", "崇德", "德興", "大學", "龍泉", "錦安", "新庄", "頂埔", "後埔", "港口", "溪洲", "山腳",
)
# fmt: on

# Common surnames with rough weights (per mille of the population).
SURNAMES: tuple[tuple[str, int], ...] = (
    ("陳", 111), ("林", 83), ("黃", 60), ("張", 53), ("李", 51), ("王", 41), ("吳", 40),
    ("劉", 32), ("蔡", 29), ("楊", 27), ("許", 23), ("鄭", 19), ("謝", 18), ("郭", 17),
    ("洪", 16), ("曾", 14), ("邱", 14), ("廖", 13), ("賴", 13), ("徐", 12), ("周", 12),
    ("葉", 11), ("蘇", 11), ("莊", 10), ("呂", 8), ("江", 8), ("何", 8), ("蕭", 7),
    ("羅", 7), ("高", 7), ("潘", 6), ("簡", 6), ("朱", 6), ("鍾", 6), ("游", 5), ("彭", 5),
    ("詹", 5), ("胡", 5), ("施", 5), ("沈", 5), ("余", 4), ("盧", 4), ("梁", 4), ("趙", 4),
    ("顏", 4), ("柯", 4), ("翁", 4), ("魏", 3), ("孫", 3), ("戴", 3), ("歐陽", 1),
)  # fmt: skip

GIVEN_CHARS: dict[str, str] = {
    "M": "志明家豪俊宏建文偉冠宇哲承翰柏彥信傑誠廷凱杰銘育政振國榮正佑昇安德勝軒威仁維祥",
    "F": "淑美怡雅婷惠玲芳麗秀慧佳欣萍君如靜琪珊筱涵瑜嘉雯宜純蓉貞鈺華瑩晴芸庭萱",
}

# Foreign residents' names as printed on their cards: romanised, upper case.
# fmt: off
FOREIGN_SURNAMES: tuple[str, ...] = (
    "NGUYEN", "TRAN", "LE", "PHAM", "HOANG", "VU", "DANG", "BUI", "SANTOS", "REYES", "CRUZ",
    "GARCIA", "BAUTISTA", "MENDOZA", "WIDODO", "SETIAWAN", "SARI", "PUTRI", "SUZUKI", "TANAKA",
    "SATO", "KIM", "LEE", "PARK", "SMITH", "JOHNSON", "BROWN", "MUELLER", "MARTIN", "SOMCHAI",
    "SRISUK",
)
FOREIGN_GIVEN: dict[str, tuple[str, ...]] = {
    "M": (
        "VAN AN", "VAN HUNG", "MINH TUAN", "JOHN PAUL", "MARK", "ARIF", "BUDI", "AGUS",
        "HIROSHI", "KENJI", "MIN JUN", "DAVID", "MICHAEL", "THOMAS", "LUCAS", "ANAN", "SOMSAK",
    ),
    "F": (
        "THI HOA", "THI LAN", "THU TRANG", "MARIA", "ANGELICA", "SITI", "DEWI", "AYU", "YUKI",
        "SAKURA", "JI WOO", "EMILY", "SARAH", "ANNA", "LAURA", "MALI", "NARI",
    ),
}
# fmt: on
