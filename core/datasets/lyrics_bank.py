"""Original lyric lines and fake artist names for the embedded demo corpus (core.datasets.demo).

Every line here was written for Songscape; none is quoted from a real song. Lines are grouped by
genre so themes (and vocabulary) differ a little from genre to genre, which gives the lyrics
features something real to find. Bangla lines are in Bengali script (U+0980–U+09FF).
"""

from __future__ import annotations

LINES: dict[str, dict[str, tuple[str, ...]]] = {
    "rock": {
        "English": (
            "Fire is burning underneath my skin",
            "Standing alone in a broken town",
            "I will not stop until the walls come down",
            "Thunder guitars in the empty street",
            "Break the chains and run into the storm",
            "My heart is made of iron and stone",
            "We shout our names against the rain",
            "Turn it louder let the city shake",
        ),
        "Bangla": (
            "আগুন জ্বলে বুকের ভেতর আজ",
            "ভাঙা শহরে একা দাঁড়িয়ে আছি",
            "চিৎকার করে বলি আমি থামব না",
            "রাতের রাস্তায় গর্জে ওঠে গিটার",
            "দেয়াল ভেঙে বেরিয়ে এসো তুমি",
            "ঝড়ের মুখে দাঁড়াব আমরা সবাই",
            "লোহার মতো শক্ত আমার মন",
            "শিকল ছিঁড়ে উড়ে যাব আকাশে",
        ),
    },
    "electronic": {
        "English": (
            "Dancing under neon lights all night",
            "The city glows like a thousand stars",
            "Feel the rhythm pulling at your heart",
            "No sleep tonight we are wide awake",
            "Lost inside the laser and the sound",
            "Raise your hands and move together now",
            "Time is frozen on the dance floor",
            "Waves of music washing over me",
        ),
        "Bangla": (
            "আলোর নিচে নাচি সারা রাত",
            "তারার মতো জ্বলছে শহর",
            "হৃদয়ের তালে বাজে এই ছন্দ",
            "ঘুম নেই আজ চোখে আমার",
            "নিয়ন আলোয় হারিয়ে যাই",
            "হাত তোলো সবাই একসাথে",
            "সময় থেমে গেছে এই মুহূর্তে",
            "ঢেউয়ের মতো ভেসে আসে সুর",
        ),
    },
    "hiphop": {
        "English": (
            "Writing my story on the corner of the block",
            "Grew up hungry with the concrete and the clock",
            "My pen is the sharpest weapon that I own",
            "Paid for every dream with sweat and broken bone",
            "Telling city tales in a steady flow",
            "Nobody gave me nothing so I took it slow",
            "Keep my head up walking every single day",
            "My words are my passport and they lead the way",
        ),
        "Bangla": (
            "গলির মোড়ে দাঁড়িয়ে লিখি আমার কথা",
            "মাটির গন্ধে বড় হয়েছি আমি",
            "কলম আমার সবচেয়ে বড় অস্ত্র",
            "ঘামের দামে কিনেছি এই স্বপ্ন",
            "শহরের গল্প বলি ছন্দে ছন্দে",
            "কেউ দেয়নি কিছু নিজেই নিয়েছি",
            "মাথা উঁচু রেখে হাঁটি প্রতিদিন",
            "আমার ভাষায় আমার পরিচয়",
        ),
    },
    "classical": {
        "English": (
            "Moonlight is falling on the silver lake",
            "A quiet river wanders far away",
            "In your eyes I see the morning light",
            "The wind is carrying a sweet perfume",
            "A lonely bird is singing in the night",
            "The sun is hiding in the shade of clouds",
            "Your name is written all across my heart",
            "The evening settles slowly on the hills",
        ),
        "Bangla": (
            "চাঁদের আলো পড়েছে জলে",
            "শান্ত নদী বয়ে চলে দূরে",
            "তোমার চোখে দেখি ভোরের আলো",
            "বাতাসে ভাসে ফুলের সুবাস",
            "নীরব রাতে গান গায় পাখি",
            "মেঘের ছায়ায় লুকায় সূর্য",
            "হৃদয় জুড়ে শুধু তোমার নাম",
            "সন্ধ্যা নামে ধীরে ধীরে",
        ),
    },
    "folk": {
        "English": (
            "I search for the soul of man on every road",
            "With a single string I wander village to village",
            "A little lamp is burning in the mud house",
            "The boat is tied beside the river bank",
            "Oh boatman take me to the other shore",
            "The strange bird flies away and leaves the cage",
            "Golden rice is swaying in the field",
            "A song of love is playing in my mind",
        ),
        "Bangla": (
            "মনের মানুষ খুঁজে ফিরি পথে পথে",
            "একতারা হাতে চলেছি গ্রামে গ্রামে",
            "মাটির ঘরে জ্বলে প্রদীপ",
            "নদীর ঘাটে নৌকা বাঁধা",
            "ও মাঝি ভাই নিয়ে চলো ওপারে",
            "অচিন পাখি উড়ে যায় খাঁচা ছেড়ে",
            "ধানের খেতে দোলে সোনার শীষ",
            "বাউল মনে বাজে প্রেমের সুর",
        ),
    },
    "jazz": {
        "English": (
            "Your picture floating in a rainy cup of coffee",
            "When the night is deep the city stays awake",
            "An old record plays a melody I know",
            "Sitting by the window thinking about you",
            "A line of smoke is curling in the lamp light",
            "Time is walking softly down the hall",
            "I look for a lost song in an unknown lane",
            "When you arrive the noise just fades away",
        ),
        "Bangla": (
            "বৃষ্টি ভেজা কফির কাপে তোমার ছবি",
            "রাত গভীর হলে জেগে থাকে শহর",
            "পুরোনো রেকর্ডে বাজে চেনা সুর",
            "জানালার পাশে বসে ভাবি তোমায়",
            "আলতো আলোয় ধোঁয়ার রেখা",
            "মৃদু পায়ে হেঁটে যায় সময়",
            "অচেনা গলিতে খুঁজি হারানো গান",
            "তুমি এলে থেমে যায় সব কোলাহল",
        ),
    },
}

# Fake artists, a few per genre × language. Hybrid songs come from their own small pool.
ARTISTS: dict[str, dict[str, tuple[str, ...]]] = {
    "rock": {
        "English": ("Iron Harbor", "The Static Saints", "Red Meridian"),
        "Bangla": ("Agnishikha", "Shohor Jhor", "Lohar Deyal"),
        "Hybrid": ("Jhor Circuit", "Broken Ghat"),
        "Instrumental": ("Overdrive Room", "Dhaka Amp Works"),
    },
    "electronic": {
        "English": ("Neon Parallax", "Kilohertz Kids", "Glass Lantern"),
        "Bangla": ("Tarar Shohor", "Alo Chhaya", "Nishi Beat"),
        "Hybrid": ("Dhaka Afterglow", "Pixel Nodi"),
        "Instrumental": ("Sidechain Monsoon", "Oscillo"),
    },
    "hiphop": {
        "English": ("Corner Scribe", "MC Concrete", "Low Clock"),
        "Bangla": ("Golir Kobi", "Mati Flow", "Kolom Raja"),
        "Hybrid": ("Bilingual Bars", "Rickshaw Cypher"),
        "Instrumental": ("Dusty Loops", "Boombox Bazaar"),
    },
    "classical": {
        "English": ("Silver Lake Ensemble", "Evening Quartet", "Hollow Hill Strings"),
        "Bangla": ("Shanti Nodi Sangha", "Bhorer Alo", "Megh Mallar Trio"),
        "Hybrid": ("Twin River Chamber", "Moonwater Duo"),
        "Instrumental": ("Adagio Garden", "Sandhya Strings"),
    },
    "folk": {
        "English": ("Wandering String", "Mudhouse Lanterns", "Ferry Road"),
        "Bangla": ("Ektara Pathik", "Achin Pakhi", "Ghater Majhi"),
        "Hybrid": ("Baul Crossing", "Riverbank Mela"),
        "Instrumental": ("Dotara Fields", "Village Drum Circle"),
    },
    "jazz": {
        "English": ("Rainy Coffee Trio", "Blue Hallway", "Lamp Light Five"),
        "Bangla": ("Brishti Jazz", "Purono Record", "Janala Quartet"),
        "Hybrid": ("Monsoon Swing", "Calcutta After Hours"),
        "Instrumental": ("Walking Bass Society", "Ride Cymbal Club"),
    },
}

# Words left out of English titles.
ENGLISH_STOPWORDS = frozenset(
    "a an the and or of in on at to into is are my your our we i me it its with for by from all "
    "every just so when until let like up down over under underneath across about beside away now "
    "will not no nobody nothing that this single you just when there very".split()
)
