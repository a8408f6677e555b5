"""What the public status page and the SMS say, in the kiosk's five languages.

Plain words for a villager reading on a cheap phone: no agency jargon, no personal data. ``{days}``,
``{centre}``, ``{reason}`` are filled in per request.
"""

from __future__ import annotations

LANGUAGES = ("ka", "en", "ru", "az", "hy")
LANGUAGE_NAMES = {"ka": "ქართული", "en": "English", "ru": "Русский", "az": "Azərbaycanca", "hy": "Հայերեն"}

TEXTS: dict[str, dict[str, str]] = {
    "ka": {
        "busy.title": "ძალიან ბევრი მოთხოვნა",
        "busy.body": "გთხოვთ, სცადოთ ერთ წუთში.",
        "title": "თქვენი მოთხოვნა",
        "receipt": "ქვითრის ნომერი",
        "service": "მომსახურება",
        "state": "მდგომარეობა",
        "since": "თარიღი",
        "centre": "სათემო ცენტრი",
        "state.received": "მიღებულია",
        "state.in_progress": "მუშავდება",
        "state.closed": "მზადაა",
        "state.rejected": "უარყოფილია",
        "next.received": "სააგენტომ მიიღო თქვენი მოთხოვნა. ჩვეულებრივ {days} სჭირდება.",
        "next.in_progress": "სააგენტო ამუშავებს თქვენს მოთხოვნას. ჩვეულებრივ {days} სჭირდება.",
        "next.closed": "თქვენი მოთხოვნა მზადაა. შედეგი მიიღეთ აქ: {centre}. თან იქონიეთ პირადობის მოწმობა.",
        "next.rejected": "თქვენი მოთხოვნა უარყოფილია: {reason}. რა გააკეთოთ, იკითხეთ აქ: {centre}.",
        "not_found.title": "მოთხოვნა ვერ მოიძებნა",
        "not_found.body": "შეამოწმეთ ქვითრის QR კოდი ან იკითხეთ სათემო ცენტრში. თუ მოთხოვნა ახლახან გააკეთეთ, "
                          "ის შეიძლება ჯერ არ იყოს მიღებული: სცადეთ მოგვიანებით.",
        "languages": "ენა",
        "sms": "{service}: {state}. ქვითარი {receipt}. {url}",
    },
    "en": {
        "busy.title": "Too many requests",
        "busy.body": "Please try again in a minute.",
        "title": "Your request",
        "receipt": "Receipt number",
        "service": "Service",
        "state": "State",
        "since": "Since",
        "centre": "Community centre",
        "state.received": "Received",
        "state.in_progress": "Being handled",
        "state.closed": "Ready",
        "state.rejected": "Refused",
        "next.received": "The agency has your request. It usually takes {days}.",
        "next.in_progress": "The agency is working on your request. It usually takes {days}.",
        "next.closed": "Your request is done. Collect the result at {centre}. Bring your ID card.",
        "next.rejected": "Your request was refused: {reason}. Ask at {centre} what to do next.",
        "not_found.title": "We cannot find this request",
        "not_found.body": "Check the QR code on your receipt, or ask at your community centre. If you made the "
                          "request just now, it may not have arrived yet: try again later.",
        "languages": "Language",
        "sms": "{service}: {state}. Receipt {receipt}. {url}",
    },
    "ru": {
        "busy.title": "Слишком много запросов",
        "busy.body": "Пожалуйста, попробуйте через минуту.",
        "title": "Ваш запрос",
        "receipt": "Номер квитанции",
        "service": "Услуга",
        "state": "Состояние",
        "since": "С",
        "centre": "Общинный центр",
        "state.received": "Получен",
        "state.in_progress": "В работе",
        "state.closed": "Готов",
        "state.rejected": "Отказано",
        "next.received": "Агентство получило ваш запрос. Обычно это занимает {days}.",
        "next.in_progress": "Агентство работает над вашим запросом. Обычно это занимает {days}.",
        "next.closed": "Ваш запрос выполнен. Получите результат здесь: {centre}. Возьмите удостоверение личности.",
        "next.rejected": "В вашем запросе отказано: {reason}. Спросите здесь, что делать дальше: {centre}.",
        "not_found.title": "Мы не нашли этот запрос",
        "not_found.body": "Проверьте QR-код на квитанции или спросите в общинном центре. Если вы сделали запрос "
                          "только что, он мог ещё не прийти: попробуйте позже.",
        "languages": "Язык",
        "sms": "{service}: {state}. Квитанция {receipt}. {url}",
    },
    "az": {
        "busy.title": "Həddən çox sorğu",
        "busy.body": "Zəhmət olmasa, bir dəqiqə sonra yenidən cəhd edin.",
        "title": "Sorğunuz",
        "receipt": "Qəbz nömrəsi",
        "service": "Xidmət",
        "state": "Vəziyyət",
        "since": "Tarix",
        "centre": "İcma mərkəzi",
        "state.received": "Qəbul edilib",
        "state.in_progress": "İcra olunur",
        "state.closed": "Hazırdır",
        "state.rejected": "İmtina edilib",
        "next.received": "Agentlik sorğunuzu qəbul edib. Adətən {days} çəkir.",
        "next.in_progress": "Agentlik sorğunuz üzərində işləyir. Adətən {days} çəkir.",
        "next.closed": "Sorğunuz hazırdır. Nəticəni buradan götürün: {centre}. Şəxsiyyət vəsiqənizi gətirin.",
        "next.rejected": "Sorğunuzdan imtina edilib: {reason}. Nə etməli olduğunuzu burada soruşun: {centre}.",
        "not_found.title": "Bu sorğunu tapa bilmədik",
        "not_found.body": "Qəbzinizdəki QR kodu yoxlayın və ya icma mərkəzində soruşun. Sorğunu indicə etmisinizsə, "
                          "o hələ çatmaya bilər: bir az sonra yenidən yoxlayın.",
        "languages": "Dil",
        "sms": "{service}: {state}. Qəbz {receipt}. {url}",
    },
    "hy": {
        "busy.title": "Չափազանց շատ հարցումներ",
        "busy.body": "Խնդրում ենք փորձել մեկ րոպեից։",
        "title": "Ձեր հայցը",
        "receipt": "Անդորրագրի համարը",
        "service": "Ծառայություն",
        "state": "Վիճակ",
        "since": "Ամսաթիվ",
        "centre": "Համայնքային կենտրոն",
        "state.received": "Ստացված է",
        "state.in_progress": "Ընթացքի մեջ է",
        "state.closed": "Պատրաստ է",
        "state.rejected": "Մերժված է",
        "next.received": "Գործակալությունը ստացել է ձեր հայցը։ Սովորաբար տևում է {days}։",
        "next.in_progress": "Գործակալությունն աշխատում է ձեր հայցի վրա։ Սովորաբար տևում է {days}։",
        "next.closed": "Ձեր հայցը պատրաստ է։ Արդյունքը ստացեք այստեղ՝ {centre}։ Վերցրեք ձեր անձնագիրը։",
        "next.rejected": "Ձեր հայցը մերժվել է՝ {reason}։ Հարցրեք այստեղ, թե ինչ անել՝ {centre}։",
        "not_found.title": "Այս հայցը չգտանք",
        "not_found.body": "Ստուգեք անդորրագրի QR կոդը կամ հարցրեք համայնքային կենտրոնում։ Եթե հայցն արել եք "
                          "հենց նոր, այն կարող է դեռ չհասած լինել՝ փորձեք ավելի ուշ։",
        "languages": "Լեզու",
        "sms": "{service}: {state}։ Անդորրագիր {receipt}։ {url}",
    },
}


def working_days(language: str, n: int) -> str:
    """``n`` working days, with the plural the language wants (Russian has three forms, English two)."""
    if language == "en":
        return f"{n} working day" if n == 1 else f"{n} working days"
    if language == "ru":
        form = ("рабочий день" if n % 10 == 1 and n % 100 != 11
                else "рабочих дня" if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 else "рабочих дней")
        return f"{n} {form}"
    return {"ka": f"{n} სამუშაო დღე", "az": f"{n} iş günü", "hy": f"{n} աշխատանքային օր"}.get(language, str(n))


def text(language: str, key: str, **params: object) -> str:
    """One text in ``language`` (English when the language is unknown), its ``{params}`` filled in."""
    words = TEXTS.get(language, TEXTS["en"])
    return words[key].format(**params) if params else words[key]
