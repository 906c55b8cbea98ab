"""What the second demo market holds: Pasar Klandasan, by the sea in the same city, so that the
city page and the search across markets have something to compare. Same shape as
demo_market.py; some goods (amplang, beads, honey, dried fish) are sold in both markets."""

from decimal import Decimal

MARKET = {
    "slug": "pasar-klandasan",
    "name": "Pasar Klandasan",
    "city": "Balikpapan",
    "province": "Kalimantan Timur",
    "address": "Jl. Jenderal Sudirman, Klandasan Ulu, Balikpapan Kota",
    "description": (
        "Pasar tradisional di tepi laut Balikpapan: ikan asin dan hasil laut, amplang, "
        "keripik, kue khas Banjar, buah lokal dan suvenir manik-manik."
    ),
    "opening_hours": "Jumat tutup 11.30–13.30 untuk salat Jumat",
    # Closed on Mondays, so the demo shows both labels: "open now" and "opens again …".
    "weekly_hours": [None] + [{"opens": "06:00", "closes": "18:00"}] * 6,
    "latitude": Decimal("-1.276800"),
    "longitude": Decimal("116.829000"),
}

# (name, owner, block, number, phone, categories, description, colour, products)
# products: (name, price, kind, note, availability, facts)
VENDORS = [
    (
        "Amplang & Keripik Hj. Salmah",
        "Hj. Salmah",
        "A",
        "5",
        "0812-0000-0101",
        ["makanan", "suvenir"],
        "Amplang tenggiri dan udang buatan sendiri, keripik pisang dan singkong balado.",
        (200, 140, 50),
        [
            (
                "Amplang tenggiri 500 g",
                65000,
                "fixed",
                "",
                "in_stock",
                {
                    "halal": True,
                    "permit_number": "PIRT 2066471010301-27",
                    "name_en": "Mackerel fish crackers (amplang) 500 g",
                },
            ),
            (
                "Amplang udang 250 g",
                40000,
                "fixed",
                "",
                "in_stock",
                {"halal": True, "name_en": "Shrimp crackers (amplang) 250 g"},
            ),
            ("Keripik pisang kepok", 20000, "fixed", "per bungkus", "in_stock", {"halal": True}),
            ("Kripik singkong balado", 15000, "fixed", "per bungkus", "in_stock", {"halal": True}),
            ("Sambal ebi botol", 35000, "fixed", "", "pre_order", {"halal": True}),
        ],
    ),
    (
        "Ikan Asin Pak Hasan",
        "Hasan Basri",
        "B",
        "2",
        "0812-0000-0102",
        ["makanan", "bumbu"],
        "Ikan asin jambal roti, teri nasi dan cumi kering dari nelayan Klandasan.",
        (60, 100, 140),
        [
            ("Ikan asin jambal roti 500 g", 85000, "fixed", "", "in_stock", {"halal": True}),
            ("Ikan teri nasi 250 g", 50000, "fixed", "", "in_stock", {"halal": True}),
            ("Cumi asin 250 g", 70000, "fixed", "", "in_stock", {"halal": True}),
            ("Udang kering 250 g", 75000, "fixed", "", "sold_out", {"halal": True}),
        ],
    ),
    (
        "Manik Borneo Kak Yuli",
        "Yuliana Lawing",
        "B",
        "8",
        "0812-0000-0103",
        ["aksesoris", "suvenir"],
        "Gelang dan kalung manik-manik Dayak, gantungan kunci dan tas manik kecil.",
        (170, 50, 90),
        [
            (
                "Gelang manik Dayak",
                20000,
                "fixed",
                "",
                "in_stock",
                {"material": "Manik kaca"},
            ),
            ("Kalung manik panjang", 60000, "fixed", "", "in_stock", {"material": "Manik kaca"}),
            ("Dompet manik kecil", 45000, "fixed", "", "in_stock", {"material": "Manik kaca"}),
            ("Gantungan kunci mandau", 12000, "fixed", "", "in_stock", {}),
        ],
    ),
    (
        "Madu Hutan Pak Darto",
        "Sudarto",
        "C",
        "3",
        "0812-0000-0104",
        ["minuman", "makanan"],
        "Madu kelulut dan madu hutan Kalimantan, diambil sendiri dari hutan Samboja.",
        (150, 95, 20),
        [
            (
                "Madu kelulut 500 ml",
                220000,
                "fixed",
                "",
                "in_stock",
                {
                    "halal": True,
                    "permit_number": "PIRT 5066471020301-27",
                    "name_en": "Kelulut honey 500 ml",
                },
            ),
            ("Madu hutan Samboja 250 ml", 90000, "fixed", "", "in_stock", {"halal": True}),
            ("Propolis kelulut 10 ml", 75000, "fixed", "", "pre_order", {}),
            ("Kopi robusta Samboja 200 g", 40000, "fixed", "", "in_stock", {"halal": True}),
        ],
    ),
    (
        "Buah Lokal Bu Mina",
        "Aminah",
        "C",
        "10",
        "0812-0000-0105",
        ["sayur-buah"],
        "Buah dan sayur Kalimantan sesuai musim: durian lai, cempedak, kelakai.",
        (80, 140, 60),
        [
            ("Durian lai", 50000, "from", "per buah", "pre_order", {}),
            ("Cempedak", 30000, "from", "per buah", "in_stock", {}),
            ("Pisang kepok 1 sisir", 25000, "fixed", "", "in_stock", {}),
            ("Sayur kelakai", 10000, "fixed", "per ikat", "in_stock", {}),
        ],
    ),
    (
        "Kue Banjar Mama Ida",
        "Ida Rosida",
        "D",
        "1",
        "0812-0000-0106",
        ["makanan"],
        "Kue bingka, amparan tatak dan roti pisang, dipanggang tiap subuh.",
        (190, 110, 70),
        [
            ("Kue bingka kentang", 45000, "fixed", "per loyang", "in_stock", {"halal": True}),
            ("Amparan tatak pisang", 40000, "fixed", "per loyang", "pre_order", {"halal": True}),
            ("Roti pisang", 8000, "fixed", "", "in_stock", {"halal": True}),
        ],
    ),
]

VLOGS = {
    "Ikan Asin Pak Hasan": "https://www.youtube.com/watch?v=9bZkp7q19f0",
}
