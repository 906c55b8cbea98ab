"""What the demo market holds: Pasar Inpres Kebun Sayur in Balikpapan, its vendors, their
products and vlog links. demo.py turns it into records."""

from decimal import Decimal

DEMO_VENDOR_PHONE = "0812-0000-0001"

MARKET = {
    "slug": "pasar-inpres-kebun-sayur",
    "name": "Pasar Inpres Kebun Sayur",
    "city": "Balikpapan",
    "province": "Kalimantan Timur",
    "address": "Jl. Letjen Suprapto, Kebun Sayur, Balikpapan Barat",
    "description": (
        "Pusat oleh-oleh dan kerajinan khas Kalimantan di Balikpapan: manik-manik Dayak, "
        "batu akik dan mutiara, amplang, batik, anyaman rotan dan ukiran."
    ),
    "opening_hours": "Buka juga pada hari libur nasional",
    "weekly_hours": [{"opens": "08:00", "closes": "21:00"}] * 7,
    "latitude": Decimal("-1.238900"),
    "longitude": Decimal("116.829700"),
}

# (name, owner, block, number, phone, categories, description, colour, products)
# products: (name, price, kind, note, availability, facts)
VENDORS = [
    (
        "Manik Dayak Bu Sri",
        "Sri Wahyuni",
        "A",
        "3",
        DEMO_VENDOR_PHONE,
        ["aksesoris", "kerajinan"],
        "Gelang, kalung dan tas manik-manik motif Dayak, dirangkai sendiri di kios.",
        (190, 60, 40),
        [
            (
                "Gelang manik motif burung enggang",
                25000,
                "fixed",
                "",
                "in_stock",
                {
                    "material": "Manik kaca, motif enggang",
                    "name_en": "Bead bracelet with hornbill motif",
                    "description_en": (
                        "Glass beads strung by hand at the stall in the pattern of the "
                        "hornbill, the bird the Dayak people hold sacred."
                    ),
                },
            ),
            (
                "Kalung manik Dayak tiga warna",
                75000,
                "fixed",
                "",
                "in_stock",
                {"material": "Manik kaca", "name_en": "Three-colour Dayak bead necklace"},
            ),
            (
                "Tas selempang manik",
                350000,
                "from",
                "tergantung ukuran",
                "pre_order",
                {"material": "Manik kaca, kain blacu"},
            ),
            ("Gantungan kunci manik", 15000, "fixed", "per 3 pcs", "in_stock", {}),
            (
                "Ikat kepala manik (lawung)",
                120000,
                "negotiable",
                "",
                "sold_out",
                {"material": "Manik kaca, motif Dayak Kenyah"},
            ),
        ],
    ),
    (
        "Amplang Kepiting Pak Udin",
        "Udin Saprudin",
        "B",
        "12",
        "0812-0000-0002",
        ["makanan", "suvenir"],
        "Amplang ikan tenggiri dan kepiting, digoreng tiap pagi. Tahan dua bulan.",
        (214, 160, 60),
        [
            (
                "Amplang ikan tenggiri 250 g",
                35000,
                "fixed",
                "",
                "in_stock",
                {
                    "halal": True,
                    "permit_number": "PIRT 2066471010123-26",
                    "name_en": "Mackerel fish crackers (amplang) 250 g",
                    "description_en": (
                        "Crunchy amplang of Spanish mackerel, fried every morning: the snack "
                        "people take home from Balikpapan. Keeps for two months."
                    ),
                },
            ),
            (
                "Amplang kepiting 250 g",
                45000,
                "fixed",
                "",
                "in_stock",
                {
                    "halal": True,
                    "permit_number": "PIRT 2066471010124-26",
                    "name_en": "Crab crackers (amplang) 250 g",
                },
            ),
            ("Kerupuk ikan pipih 500 g", 40000, "fixed", "", "in_stock", {"halal": True}),
            ("Stik ikan pedas", 20000, "fixed", "per bungkus", "in_stock", {"halal": True}),
            ("Abon ikan tongkol 200 g", 50000, "fixed", "", "sold_out", {"halal": True}),
        ],
    ),
    (
        "Batik & Sarung Borneo Indah",
        "Hj. Rahmawati",
        "C",
        "7",
        "0812-0000-0003",
        ["kain", "pakaian"],
        "Batik motif Dayak dan Kaltim, sarung tenun Samarinda, kain sasirangan.",
        (40, 90, 140),
        [
            (
                "Kain batik motif Dayak 2 m",
                150000,
                "from",
                "",
                "in_stock",
                {"material": "Katun primisima"},
            ),
            (
                "Sarung tenun Samarinda",
                275000,
                "fixed",
                "",
                "in_stock",
                {"material": "Sutra tenun ATBM"},
            ),
            (
                "Kain sasirangan",
                120000,
                "fixed",
                "",
                "in_stock",
                {
                    "material": "Katun, pewarna alam",
                    "name_en": "Sasirangan cloth",
                    "description_en": "Banjar tie-dyed cotton, coloured with natural dyes.",
                },
            ),
            ("Kemeja batik pria lengan pendek", 185000, "fixed", "ukuran M–XXL", "in_stock", {}),
            ("Selendang batik", 85000, "negotiable", "", "pre_order", {}),
        ],
    ),
    (
        "Permata Hati — Akik & Mutiara",
        "Andi Baso",
        "A",
        "11",
        "0812-0000-0004",
        ["aksesoris", "suvenir"],
        "Batu akik Kalimantan dan mutiara air laut, bisa pesan ikat cincin.",
        (90, 60, 130),
        [
            (
                "Cincin batu akik kecubung",
                250000,
                "from",
                "",
                "in_stock",
                {"material": "Kecubung Kalimantan, ikat perak"},
            ),
            (
                "Kalung mutiara air laut",
                450000,
                "negotiable",
                "",
                "in_stock",
                {"material": "Mutiara Lombok", "name_en": "Saltwater pearl necklace"},
            ),
            ("Anting mutiara", 95000, "fixed", "sepasang", "in_stock", {}),
            ("Gelang batu akik", 65000, "fixed", "", "in_stock", {}),
            ("Liontin batu bacan", 300000, "negotiable", "", "sold_out", {}),
        ],
    ),
    (
        "Ukiran Mandau Pak Yohanes",
        "Yohanes Lejau",
        "D",
        "2",
        "0812-0000-0005",
        ["kerajinan", "suvenir"],
        "Miniatur mandau, topeng hudoq dan perisai talawang ukiran tangan.",
        (110, 70, 40),
        [
            (
                "Miniatur mandau 30 cm",
                175000,
                "fixed",
                "",
                "in_stock",
                {"material": "Kayu ulin, kuningan"},
            ),
            (
                "Topeng hudoq",
                250000,
                "from",
                "",
                "in_stock",
                {"material": "Kayu pelantan, cat alam"},
            ),
            (
                "Perisai talawang mini",
                150000,
                "fixed",
                "",
                "in_stock",
                {"material": "Kayu, motif Dayak Kenyah"},
            ),
            ("Patung ukir burung enggang", 400000, "negotiable", "", "pre_order", {}),
            ("Gantungan dinding ukir", 90000, "fixed", "", "in_stock", {}),
        ],
    ),
    (
        "Oleh-oleh Kaltim Mbak Rina",
        "Rina Lestari",
        "B",
        "4",
        "0812-0000-0006",
        ["suvenir", "makanan"],
        "Kaos Balikpapan, magnet kulkas, lempok durian dan camilan khas Kaltim.",
        (30, 120, 90),
        [
            (
                "Kaos Balikpapan beruang madu",
                75000,
                "fixed",
                "",
                "in_stock",
                {"material": "Katun combed 30s"},
            ),
            ("Magnet kulkas Balikpapan", 25000, "fixed", "per 3 pcs", "in_stock", {}),
            ("Lempok durian 250 g", 55000, "fixed", "", "in_stock", {"halal": True}),
            ("Gantungan kunci beruang madu", 10000, "fixed", "", "in_stock", {}),
            ("Dodol rumput laut", 30000, "fixed", "", "sold_out", {"halal": True}),
        ],
    ),
    (
        "Anyaman Rotan Ibu Maria",
        "Maria Ping",
        "D",
        "9",
        "0812-0000-0007",
        ["kerajinan", "rumah-tangga"],
        "Tas, keranjang dan topi seraung dari rotan, dianyam ibu-ibu Dayak Kenyah.",
        (150, 110, 50),
        [
            (
                "Tas rotan bundar",
                225000,
                "fixed",
                "",
                "in_stock",
                {"material": "Rotan alam", "name_en": "Round woven rattan bag"},
            ),
            ("Topi seraung", 85000, "fixed", "", "in_stock", {"material": "Daun sang, rotan"}),
            ("Keranjang anjat", 160000, "from", "", "in_stock", {"material": "Rotan, motif Dayak"}),
            ("Tikar rotan 1×2 m", 600000, "negotiable", "", "pre_order", {}),
            ("Tatakan gelas rotan", 35000, "fixed", "per 6 pcs", "in_stock", {}),
        ],
    ),
    (
        "Madu & Kopi Hutan Borneo",
        "Agus Salim",
        "C",
        "15",
        "0812-0000-0008",
        ["minuman", "makanan"],
        "Madu kelulut, kopi liberika dan gula aren dari petani Kaltim.",
        (120, 80, 20),
        [
            (
                "Madu kelulut 250 ml",
                120000,
                "fixed",
                "",
                "in_stock",
                {
                    "halal": True,
                    "permit_number": "PIRT 5066471020011-26",
                    "name_en": "Kelulut honey 250 ml",
                    "description_en": (
                        "Honey of the kelulut, a small stingless bee of the Kalimantan forest: "
                        "runny, slightly sour and fragrant."
                    ),
                },
            ),
            ("Kopi liberika bubuk 200 g", 45000, "fixed", "", "in_stock", {"halal": True}),
            ("Gula aren cetak 500 g", 30000, "fixed", "", "in_stock", {"halal": True}),
            ("Teh daun bajakah", 40000, "fixed", "", "in_stock", {}),
            ("Madu hutan 500 ml", 150000, "fixed", "", "sold_out", {"halal": True}),
        ],
    ),
    (
        "Ikan Asin Bu Ani",
        "Ani Suryani",
        "E",
        "1",
        "0812-0000-0009",
        ["makanan", "bumbu"],
        "Ikan asin, udang ebi dan terasi dari nelayan Manggar.",
        (70, 110, 130),
        [
            ("Ikan asin peda 500 g", 60000, "fixed", "", "in_stock", {"halal": True}),
            ("Udang ebi 250 g", 70000, "fixed", "", "in_stock", {"halal": True}),
            ("Terasi udang", 15000, "fixed", "per batang", "in_stock", {"halal": True}),
            ("Cumi asin 250 g", 65000, "fixed", "", "in_stock", {"halal": True}),
            ("Ikan teri medan 250 g", 45000, "fixed", "", "in_stock", {"halal": True}),
        ],
    ),
]

VLOGS = {
    "Manik Dayak Bu Sri": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "Amplang Kepiting Pak Udin": "https://www.tiktok.com/@amplangudin/video/7301234567890123456",
}
