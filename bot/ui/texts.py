"""Every Persian string the bot says, in one place (words fixed by shared/GLOSSARY.md).

Templates take {placeholders}; bot.runtime.platforms.Renderer.fmt escapes the values per platform.
No markup here: bold and code come from the renderer, so Bale never sees HTML.
"""

from __future__ import annotations

from desk.model import AttachmentKind, Kind, Status

ORGANISATION = "سازمان جهاد کشاورزی استان خراسان جنوبی"

# --- main menu -----------------------------------------------------------------------------
BTN_COMPLAINT = "ثبت شکایت"
BTN_SUGGESTION = "پیشنهادات و انتقادات"
BTN_HEAD = "ارتباط با رئیس سازمان"
BTN_SURVEY = "نظرسنجی خدمات"
BTN_TRACK = "پیگیری درخواست"
BTN_MINE = "درخواست‌های من"

BTN_DRAFTS_MENU = "پیش‌نویس مقررات"
BTN_CONTACT = "تماس با ما"

MENU_ROWS = (
    (BTN_COMPLAINT, BTN_SUGGESTION),
    (BTN_HEAD, BTN_SURVEY),
    (BTN_TRACK, BTN_MINE),
    (BTN_DRAFTS_MENU, BTN_CONTACT),
)

WELCOME = (
    "سلام، به میز خدمت پیام‌رسان {org} خوش آمدید.\n\n"
    "از اینجا می‌توانید شکایت، پیشنهاد یا انتقاد خود را ثبت کنید، با رئیس سازمان در ارتباط باشید "
    "و در نظرسنجی خدمات شرکت کنید. هر درخواست یک کد رهگیری می‌گیرد، خودکار به واحد مربوط "
    "می‌رسد و پاسخ آن در همین گفتگو به شما اعلام می‌شود.\n\n"
    "لطفاً یکی از گزینه‌های زیر را انتخاب کنید."
)
MENU_AGAIN = "لطفاً یکی از گزینه‌های منو را انتخاب کنید."
LOST = (
    "متوجه پیام شما نشدم. برای ثبت درخواست یکی از گزینه‌های منو را انتخاب کنید؛ "
    "برای پیگیری، کد رهگیری ۱۰ رقمی را بفرستید."
)
NOT_IN_GROUPS = "این گفتگو برای شهروندان در گفتگوی خصوصی با بات است."

# --- common buttons and steps -------------------------------------------------------------------
BTN_CANCEL = "انصراف"
BTN_BACK = "بازگشت"  # every step: one step back (on the first step, to the main menu)
# after «بازگشت»: this step's answer stays as it was, and on to the next step
BTN_KEEP_ANSWER = "ادامه با همان پاسخ قبلی"
# an optional step's button names what is skipped (never «رد کردن», which reads as "reject")
BTN_NO_NATIONAL_CODE = "ادامه بدون کد ملی"
# labels of buttons that old keyboards still show (a conversation survives a restart): still
# accepted, never shown again
OLD_SKIP_LABELS = ("رد کردن",)
BTN_DONE = "پایان ارسال پیوست‌ها"
BTN_NO_ATTACHMENTS = "بدون پیوست"
BTN_SHARE_PHONE = "ارسال شماره همراه من"
BTN_CONFIRM = "تأیید و ارسال"
BTN_EDIT = "ویرایش"
BTN_YES = "بله"
BTN_NO = "خیر"
BTN_ABANDON = "بله، رها کن"
BTN_CONTINUE = "نه، ادامه می‌دهم"
BTN_ANONYMOUS = "بدون نام ثبت شود"
BTN_WITH_NAME = "با نام و شماره تماس"
BTN_UNNAMED_REPLY = "بدون نام، ولی پاسخ را همین‌جا بگیرم"

BACK_TO_MENU = "به منوی اصلی برگشتید."
CANCELLED = "درخواست نیمه‌کاره لغو شد. هر وقت خواستید دوباره از منو شروع کنید."
NOTHING_TO_CANCEL = "کاری در جریان نبود."
# leaving a look-up (nothing was being filed, so nothing is cancelled)
TRACKING_ENDED = "پیگیری تمام شد و به منوی اصلی برگشتید."
DIRECTORY_SEARCH_ENDED = "جستجو در فهرست تماس تمام شد و به منوی اصلی برگشتید."
ABANDON_QUESTION = (
    "شما در حال تکمیل یک درخواست هستید. آیا می‌خواهید آن را رها کنید و از اول شروع کنید؟"
)
CONTINUING = "بسیار خب، ادامه می‌دهیم."
STALE_BUTTON = "این دکمه دیگر کار نمی‌کند."

# --- steps ---------------------------------------------------------------------------------------
ASK_TOPIC = "موضوع درخواست شما کدام است؟ لطفاً یکی از دکمه‌ها را انتخاب کنید."
ASK_COUNTY = "این مشکل در کدام شهرستان است؟"
ASK_NAME = "لطفاً نام و نام خانوادگی خود را بنویسید."
ASK_PHONE = "لطفاً شماره همراه خود را با دکمه «{button}» بفرستید یا بنویسید (مثلاً ۰۹۱۵۱۲۳۴۵۶۷)."
ASK_NATIONAL_CODE = (
    "در صورت تمایل کد ملی ۱۰ رقمی خود را بنویسید؛ پیگیری را آسان‌تر می‌کند. "
    "اگر نمی‌خواهید، «{skip}» را بزنید."
)
ASK_DESCRIPTION = (
    "لطفاً شرح شکایت خود را بنویسید: چه اتفاقی افتاده، کجا و چه زمانی.\n"
    "(دست‌کم چند کلمه؛ حداکثر حدود {words} کلمه)"
)
ASK_SUGGESTION_TEXT = (
    "لطفاً پیشنهاد یا انتقاد خود را بنویسید. (دست‌کم چند کلمه؛ حداکثر حدود {words} کلمه)"
)
ASK_HEAD_TEXT = (
    "لطفاً پیام خود به رئیس سازمان را بنویسید. (دست‌کم چند کلمه؛ حداکثر حدود {words} کلمه)"
)
# --- a voice note, or a photo, at a description step (issue 14, item 2) ---
# after every description question: who cannot write may speak
VOICE_INVITE = "اگر نوشتن برایتان سخت است، به‌جای نوشتن یک پیام صوتی بفرستید."
# the description stored when a voice note is the description (staff, exports, the status view)
VOICE_DESCRIPTION = "🎤 پیام صوتی"
VOICE_DESCRIPTION_KEPT = "پیام صوتی شما به‌عنوان شرح نگه داشته شد."
# a new description after a voice one, with five files already: the earlier voice gives way
VOICE_REPLACED_NO_ROOM = (
    "شما {max} پیوست دارید و جایی برای نگه داشتن پیام صوتی قبلی نبود؛ شرح تازه جای آن را گرفت."
)
# a photo (or another file) sent where the description is asked: kept, and the question again;
# {what} is an ATTACHMENT_NAMES word, {then} what is still wanted
ATTACHMENT_KEPT = "{what} شما نگه داشته شد؛ حالا {then} را بنویسید یا با یک پیام صوتی بگویید."
# a file sent at the description step with a caption that is a good description
ATTACHMENT_KEPT_CAPTIONED = "{what} شما نگه داشته شد و نوشته زیر آن شرح درخواست شد."
STILL_WANTED = {
    "complaint": "شرح شکایت",
    "head": "پیام خود",
    "suggestion": "پیشنهاد یا انتقاد خود",
    "comment": "نظر خود",
}
ERR_DESCRIPTION_WANTED = (
    "در این مرحله لطفاً بنویسید یا یک پیام صوتی بفرستید. (برچسب و گیف پذیرفته نمی‌شود.)"
)
ASK_ATTACHMENTS = (
    "اگر عکس، پیام صوتی، فایل یا موقعیت مکانی مرتبط دارید، بفرستید (حداکثر {max} مورد). "
    "در پایان «{done}» را بزنید؛ اگر پیوستی ندارید «{none}» را بزنید."
)
ATTACHMENT_RECEIVED = "پیوست {n} از {max} دریافت شد. پیوست بعدی را بفرستید یا «{done}» را بزنید."
ATTACHMENTS_FULL = "حداکثر {max} پیوست دریافت شد. اکنون خلاصه درخواست را ببینید."
ASK_ANONYMOUS = (
    "آیا می‌خواهید پیام شما بدون نام ثبت شود؟\n"
    "توجه: اگر بدون نام ثبت کنید، پاسخی به شما نخواهد رسید، چون راهی برای تماس با شما نداریم.\n"
    "اگر می‌خواهید نامتان دیده نشود ولی پاسخ را بگیرید، «بدون نام، ولی پاسخ را همین‌جا بگیرم» "
    "را بزنید."
)
ANONYMOUS_NOTE = (
    "پیام شما بدون نام ثبت می‌شود. پاسخی به شما نخواهد رسید، "
    "اما وضعیت آن را می‌توانید با کد رهگیری ببینید."
)
UNNAMED_NOTE = (
    "پیام شما بدون نام ثبت می‌شود: کارشناسان نام، شماره و حساب شما را نمی‌بینند. "
    "پاسخ در همین گفتگو برایتان فرستاده می‌شود."
)
ASK_SURVEY_SERVICE = "درباره کدام خدمت نظر می‌دهید؟"
SURVEY_SERVICE_TAKEN = (
    "نظرسنجی درباره «{service}». به هر پرسش با یکی از دکمه‌های زیر همان پرسش پاسخ دهید."
)
ASK_SURVEY_QUESTION = "پرسش {n} از {total}:\n{question}\n\nاز ۱ (خیلی بد) تا ۵ (عالی)"
ASK_SURVEY_COMMENT = (
    "سپاس. اگر توضیحی دارید، کوتاه بنویسید (حدود {words} کلمه)؛ وگرنه «{skip}» را بزنید."
)
BTN_NO_COMMENT = "ثبت بدون توضیح"  # the survey's comment is optional: it names what is skipped
# one scale for the survey's questions and for rating an answer: the same words for the same
# number, each button saying what it means (1…5)
RATING_LABELS = ("۱ خیلی بد", "۲ بد", "۳ متوسط", "۴ خوب", "۵ عالی")
LIKERT_LABELS = RATING_LABELS
PICK_LIKERT = "لطفاً با یکی از دکمه‌های ۱ تا ۵ زیر پرسش پاسخ دهید."

SUMMARY_TITLE = "لطفاً درخواست خود را بررسی کنید:"
SUMMARY_FOOTER = "اگر درست است «{confirm}» را بزنید؛ برای اصلاح «{edit}» را بزنید."
ASK_EDIT_FIELD = "کدام بخش را می‌خواهید اصلاح کنید؟"
FIELD_LABELS = {
    "topic": "موضوع",
    "county": "شهرستان",
    "name": "نام",
    "phone": "شماره همراه",
    "national_code": "کد ملی",
    "text": "شرح",
    "attachments": "پیوست‌ها",
    "service": "خدمت",
    "anonymous": "نام",
}
NOT_GIVEN = "—"
ANONYMOUS_NAME = "بدون نام"
UNNAMED_NAME = "بدون نام، پاسخ در همین گفتگو"

# --- bad input -----------------------------------------------------------------------------------
ERR_PICK_BUTTON = "لطفاً یکی از دکمه‌های زیر را انتخاب کنید."
ERR_TEXT_WANTED = "در این مرحله لطفاً متن بنویسید. (برچسب، گیف و فایل در این مرحله پذیرفته نمی‌شود.)"
ERR_EMPTY = "پیام خالی بود. لطفاً دوباره بنویسید."
ERR_TOO_SHORT = "متن کوتاه است؛ لطفاً کمی بیشتر بنویسید، دست‌کم چند کلمه ({min} حرف)."
ERR_TOO_LONG = (
    "متن شما {length} حرف است و بیش از حد مجاز ({max} حرف). "
    "لطفاً کوتاه‌تر بنویسید، حدود {words} کلمه."
)
ERR_NAME = "نام باید بین {min} تا {max} حرف باشد و عدد یا نماد نداشته باشد. لطفاً دوباره بنویسید."
ERR_PHONE = (
    "این شماره همراه معتبر نیست. لطفاً شماره ۱۱ رقمی را که با ۰۹ شروع می‌شود بنویسید "
    "یا دکمه «{button}» را بزنید."
)
ERR_FOREIGN_CONTACT = "لطفاً شماره خودتان را بفرستید، نه شماره شخص دیگری را."
ERR_NATIONAL_CODE = (
    "کد ملی واردشده معتبر نیست. لطفاً ۱۰ رقم کد ملی را دوباره بنویسید یا «{skip}» را بزنید."
)
ERR_ATTACHMENT_KIND = "این نوع پیام به‌عنوان پیوست پذیرفته نمی‌شود. عکس، صدا، فایل یا موقعیت بفرستید."
ERR_FILE_TOO_BIG = (
    "حجم این فایل {size} مگابایت است و بیش از حد مجاز ({max} مگابایت). لطفاً فایل کوچک‌تری بفرستید."
)
ERR_TRY_AGAIN = (
    "متأسفانه الان نتوانستیم پیام شما را پردازش کنیم. اطلاعاتی که وارد کرده‌اید محفوظ است؛ "
    "لطفاً چند لحظه دیگر دوباره بفرستید."
)

# --- receipt -------------------------------------------------------------------------------------
RECEIPT = (
    "{yours} در تاریخ {date} ثبت شد.\n"
    "کد رهگیری: {code}\n\n"
    "{next}\n\n"
    "این کد را نگه دارید؛ با فرستادن آن در همین گفتگو وضعیت درخواست را می‌بینید."
)
NEXT_STEPS = {
    Kind.COMPLAINT: (
        "شکایت شما به «{unit}» می‌رسد و حداکثر تا {due} روز کاری پاسخ آن در همین گفتگو "
        "برایتان فرستاده می‌شود."
    ),
    Kind.SUGGESTION: (
        "پیشنهاد یا انتقاد شما به «{unit}» می‌رسد و نتیجه بررسی در همین گفتگو اعلام می‌شود."
    ),
    Kind.HEAD: "پیام شما به «{unit}» می‌رسد و پاسخ آن در همین گفتگو برایتان فرستاده می‌شود.",
    Kind.SURVEY: "از اینکه در نظرسنجی شرکت کردید سپاسگزاریم؛ نظر شما در بهبود خدمات به کار می‌رود.",
}
NEXT_UNNAMED = (
    "پیشنهاد یا انتقاد شما بدون نام به «{unit}» می‌رسد؛ کارشناسان نام و شماره شما را نمی‌بینند. "
    "نتیجه بررسی در همین گفتگو اعلام می‌شود."
)
# a survey answer or a draft comment has nothing to track: its receipt thanks the citizen and
# says what happens with it, and promises no status to look up
RECEIPT_UNTRACKED = "{yours} در تاریخ {date} ثبت شد.\nکد رهگیری: {code}\n\n{next}"
UNTRACKED_KINDS = frozenset({Kind.SURVEY, Kind.COMMENT})
NEXT_ANONYMOUS = (
    "پیشنهاد یا انتقاد شما بدون نام به «{unit}» می‌رسد. چون بدون نام است، "
    "پاسخی برایتان فرستاده نمی‌شود."
)

# --- tracking ------------------------------------------------------------------------------------
ASK_CODE = "لطفاً کد رهگیری ۱۰ رقمی درخواست خود را بفرستید."
ERR_CODE_FORMAT = "کد رهگیری ۱۰ رقم است. لطفاً آن را کامل و درست بفرستید."
ERR_CODE_CHECK = (
    "کد {code} درست نیست؛ احتمالاً یک رقم اشتباه نوشته شده است. لطفاً کد را دوباره بررسی کنید."
)
ERR_CODE_UNKNOWN = "درخواستی با کد رهگیری {code} پیدا نشد. لطفاً کد را بررسی کنید."
ERR_THROTTLED = (
    "تعداد جستجوهای ناموفق شما زیاد بوده است. برای حفاظت از اطلاعات شهروندان، "
    "لطفاً پس از ساعت {time} دوباره تلاش کنید."
)
STATUS_CARD = (
    "{kind} با کد رهگیری {code}\n"
    "وضعیت: {status}\n"
    "تاریخ ثبت: {created}\n"
    "آخرین تغییر: {updated}\n"
    "واحد رسیدگی: {unit}"
)
# the deadline of a request still open (the SLA due date), after «واحد رسیدگی»
STATUS_DUE = "\nمهلت پاسخ: {due}"
STATUS_TEXT = "\nمتن درخواست:\n{text}"
STATUS_ANSWER = "\n\nپاسخ ({date}):\n{answer}"
STATUS_ONLY_NOTE = (
    "\n\nبرای دیدن متن و پاسخ، از همان حسابی که درخواست را ثبت کرده پیگیری کنید، "
    "یا شماره همراهی را که هنگام ثبت دادید با دکمه «{button}» بفرستید."
)
ASK_OWN_PHONE = (
    "برای دیدن متن و پاسخ درخواست، شماره همراهی را که هنگام ثبت دادید با دکمه «{button}» "
    "بفرستید، یا کد رهگیری دیگری بفرستید."
)
PHONE_MISMATCH = "این شماره با شماره ثبت‌شده در درخواست یکسان نیست؛ فقط وضعیت قابل نمایش است."
CONTACT_NOT_OWN = (
    "این شماره پذیرفته نشد: فقط شماره خود شما پذیرفته می‌شود، وقتی با دکمه «{button}» "
    "از همین حساب فرستاده شود؛ شماره‌ای از دفترچه تلفن یا شماره شخص دیگری پذیرفته نمی‌شود. "
    "فعلاً فقط وضعیت قابل نمایش است."
)
CODE_LOCKED = (
    "برای حفظ امنیت، متن و پاسخ این درخواست فعلاً فقط در همان حسابی نشان داده می‌شود "
    "که درخواست از آن فرستاده شده است. اینجا فقط وضعیت را می‌بینید."
)
MINE_EMPTY = "هنوز درخواستی از این حساب ثبت نشده است."
MINE_TITLE = "درخواست‌های شما (جدیدترین در بالا):"
MINE_LINE = "• {kind} — کد {code} — {status} — {date}"
MINE_FOOTER = "برای دیدن جزئیات هر درخواست، کد رهگیری آن را بفرستید."

# --- names ---------------------------------------------------------------------------------------
# A kind's name is a label (a card's head, a list, a report's row): never glued into a sentence.
# A sentence about the citizen's own request says YOUR_KIND, the whole noun phrase with «شما»
# where Persian puts it («پیام شما به رئیس سازمان», not «پیام به رئیس سازمان شما»).
KIND_NAMES = {
    Kind.COMPLAINT: "شکایت",
    Kind.SUGGESTION: "پیشنهاد و انتقاد",
    Kind.HEAD: "پیام به رئیس سازمان",
    Kind.SURVEY: "نظرسنجی",
}
YOUR_KIND = {
    Kind.COMPLAINT: "شکایت شما",
    Kind.SUGGESTION: "پیشنهاد یا انتقاد شما",
    Kind.HEAD: "پیام شما به رئیس سازمان",
    Kind.SURVEY: "پاسخ شما به نظرسنجی",
}
# The status as the citizen reads it (GLOSSARY, «Statuses of a request»); staff read
# STAFF_STATUS_NAMES on cards and EXPORT_STATUS_NAMES in a workbook.
STATUS_NAMES = {
    Status.FILED: "ثبت شد",
    Status.ROUTED: "ثبت شد و به «{unit}» رسید",
    Status.IN_PROGRESS: "در دست بررسی",
    Status.WAITING: "منتظر توضیح شما",
    Status.ANSWERED: "پاسخ داده شد",
    Status.CLOSED: "بسته شد",
    Status.REOPENED: "دوباره بررسی می‌شود",
}
ATTACHMENT_NAMES = {
    AttachmentKind.PHOTO: "عکس",
    AttachmentKind.VOICE: "پیام صوتی",
    AttachmentKind.DOCUMENT: "فایل",
    AttachmentKind.LOCATION: "موقعیت مکانی",
    AttachmentKind.VIDEO: "ویدیو",
    AttachmentKind.AUDIO: "فایل صوتی",
}
MONTHS = (
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
)
DATE_TIME = "{day} {month} {year}، ساعت {time}"
DATE_ONLY = "{day} {month} {year}"

# --- staff cards -----------------------------------------------------------------------------
CARD = (
    "{kind} | کد رهگیری {code}\n"
    "وضعیت: {status}\n"
    "واحد: {unit}\n"
    "موضوع: {topic} | شهرستان: {county}\n"
    "ثبت: {created}\n"
    "{about}"
    "مهلت پاسخ: {due}\n"
    "متقاضی: {name} | تلفن: {phone}\n"
    "پیام‌رسان: {platform}\n"
    "\n{text}"
)
CARD_SURVEY = "نظرسنجی | کد رهگیری {code}\nخدمت: {service}\nثبت: {created}\n\n{answers}\n\n{text}"
CARD_SURVEY_LINE = "• {question} — {score} از ۵"
CARD_TRANSFERRED_IN = "\n\n↩️ ارجاع از «{unit}» توسط {by}{reason}"
CARD_REASON = "؛ دلیل: {reason}"
CARD_TRANSFERRED_OUT = "\n\nاین درخواست به «{unit}» ارجاع شد و دیگر در این گروه قابل اقدام نیست."
CARD_CLAIMED = "\nمسئول بررسی: {who}"
CARD_ANSWER = "\n\nپاسخ ({date}):\n{answer}"
CARD_REPLY_HINT = (
    "\n\nبرای پاسخ به متقاضی، روی همین پیام بزنید و «پاسخ» را انتخاب کنید، سپس پاسخ را بنویسید."
)
CARD_VOICE_DESCRIPTION = "\n(شرح با پیام صوتی است؛ آن را زیر همین پیام بشنوید.)"
CARD_OVERDUE = "معوق"
CARD_ANONYMOUS = "بدون نام"
CARD_UNNAMED = "بدون نام (به خواست متقاضی؛ پاسخ شما در همان گفتگو به او می‌رسد)"
PLATFORM_NAMES = {"telegram": "تلگرام", "bale": "بله"}
CLOSE_REASONS = {
    "duplicate": "تکراری",
    "out_of_scope": "خارج از حیطه وظایف سازمان",
    "spam": "نامرتبط",
}
CLOSED_WITH = "بسته شد (دلیل: {reason})"  # the citizen's status view
# The same statuses as staff read them on a card (the citizen keeps STATUS_NAMES): a fresh card
# has arrived for this unit, and «شما» is the citizen, never the clerk reading the card.
STAFF_STATUS_NAMES = {
    Status.FILED: "جدید — هنوز کسی برنداشته",
    Status.ROUTED: "جدید — هنوز کسی برنداشته",
    Status.IN_PROGRESS: "در حال بررسی",
    Status.WAITING: "در انتظار پاسخ متقاضی",
    Status.ANSWERED: "پاسخ داده شده",
    Status.CLOSED: "بسته شده",
    Status.REOPENED: "بازگشایی شده",
}
STAFF_IN_PROGRESS_BY = "در حال بررسی — {who}"
STAFF_CLOSED_WITH = "بسته شده — {reason}"
# A card with no chat to reach (a suggestion without name or phone): what staff can still do.
CARD_NOBODY_HINT = (
    "\n\nاین درخواست بدون نام است و راهی برای رساندن پیام به متقاضی نیست. اگر به همین پیام "
    "پاسخ بدهید، پاسخ در پرونده ثبت می‌شود ولی به کسی خبر داده نمی‌شود."
)
STAFF_DONE_ANSWER_NOBODY = (
    "📝 پاسخ درخواست {code} در پرونده ثبت شد. این درخواست بدون نام است، پس این پاسخ به "
    "کسی فرستاده نشد."
)
# «بستن» asks once more, showing the sentence the citizen will read.
STAFF_CONFIRM_CLOSE = (
    "{who}، درخواست {code} با دلیل «{reason}» بسته شود؟\n\nمتقاضی این پیام را می‌خواند:\n{sentence}"
)
STAFF_CONFIRM_CLOSE_SILENT = "{who}، درخواست {code} با دلیل «{reason}» بسته شود؟\n\n{why}"
STAFF_CLOSE_TELLS_NOBODY = {
    "spam": "به متقاضی پیامی فرستاده نمی‌شود (درخواست نامرتبط است).",
    "nobody": "این درخواست بدون نام است و به کسی خبر داده نمی‌شود.",
}
BTN_CONFIRM_CLOSE = "بله، بسته شود"
STAFF_CLOSE_KEPT = "درخواست {code} بسته نشد و باز است."

BTN_CLAIM = "بررسی می‌کنم"
BTN_TRANSFER = "ارجاع به واحد دیگر"
BTN_ASK = "درخواست توضیح از متقاضی"
BTN_CLOSE = "بستن"
BTN_NO_REASON = "بدون توضیح"

STAFF_PICK_UNIT = "به کدام واحد ارجاع شود؟"
STAFF_PICK_REASON = "دلیل بستن درخواست را انتخاب کنید:"
STAFF_COLLEAGUE = "همکار گرامی"  # a staff member whose profile has no name
STAFF_ASK_TRANSFER_REASON = (
    "{who}، لطفاً دلیل ارجاع به «{unit}» را در یک پیام بنویسید، یا «{skip}» را بزنید."
)
STAFF_ASK_QUESTION = "{who}، لطفاً پرسش خود از متقاضی را در یک پیام بنویسید."
STAFF_DONE_CLAIM = "✅ {who} بررسی درخواست {code} را بر عهده گرفت."
STAFF_DONE_TRANSFER = "↪️ درخواست {code} توسط {who} به «{unit}» ارجاع شد."
STAFF_DONE_ASK = "❓ پرسش برای متقاضی درخواست {code} فرستاده شد."
STAFF_DONE_ANSWER = "📨 پاسخ درخواست {code} برای متقاضی فرستاده شد."
STAFF_DONE_CLOSE = "🔒 درخواست {code} بسته شد ({reason})."
STAFF_NOT_YOURS = "این درخواست به واحد شما ارجاع نشده است؛ اقدامی انجام نشد."
STAFF_WRONG_STATUS = "این اقدام در وضعیت فعلی درخواست ({status}) ممکن نیست."
STAFF_NO_OWNER = "این درخواست بدون نام ثبت شده است و راهی برای تماس با متقاضی نیست."
STAFF_CHANGED_MEANWHILE = (
    "همکارتان همین حالا این درخواست را تغییر داد و وضعیت آن اکنون «{status}» است؛ کار شما ثبت "
    "نشد. کارت به‌روز می‌شود؛ اگر هنوز لازم است، دوباره اقدام کنید."
)
STAFF_EMPTY_ANSWER = "پاسخ خالی است. لطفاً متن پاسخ را بنویسید."
STAFF_EMPTY_QUESTION = "پرسش خالی است. لطفاً پرسش خود را بنویسید یا با یک پیام صوتی بفرستید."
STAFF_NOTE_TOO_LONG = (
    "این توضیح {length} حرف است و بیش از {max} حرف پذیرفته نمی‌شود. "
    "لطفاً کوتاه‌تر بنویسید و دوباره بفرستید؛ چیزی ثبت نشد."
)
STAFF_TEXT_TOO_LONG = (
    "این متن {length} حرف است و پیام‌رسان بیش از {max} حرف را در یک پیام به متقاضی "
    "نمی‌رساند. لطفاً کوتاه‌تر کنید یا در دو پاسخ جدا بفرستید؛ چیزی ثبت نشد."
)
STAFF_CANCELLED = "اقدام نیمه‌کاره لغو شد."

# Ready answers (`templates:` of a unit in routing_rules.yaml): /templates, «پاسخ آماده».
BTN_TEMPLATES = "پاسخ آماده"
BTN_SEND_TEMPLATE = "ارسال همین متن"
STAFF_TEMPLATES_PICK = "{who}، کدام پاسخ آماده برای درخواست {code} فرستاده شود؟"
STAFF_TEMPLATES_NONE = (
    "این واحد هنوز پاسخ آماده‌ای ندارد. مسئول فنی می‌تواند پاسخ‌های آماده را در فایل "
    "routing_rules.yaml زیر همین واحد بنویسد."
)
STAFF_TEMPLATES_HOW = (
    "برای فرستادن پاسخ آماده، روی کارت درخواست بزنید، «پاسخ» را انتخاب کنید و \u200e{command} را "
    "بفرستید، یا دکمه «{button}» زیر کارت را بزنید.\n\nپاسخ‌های آماده این واحد:\n{titles}"
)
STAFF_TEMPLATES_LINE = "• {title}"
STAFF_TEMPLATE_SHOWN = (
    "پاسخ آماده «{title}» برای درخواست {code}.\n"
    "برای فرستادن همین متن، «{send}» را بزنید. برای تغییر آن، روی همین پیام بزنید، «پاسخ» را "
    "انتخاب کنید و متن را با تغییرهای خود بفرستید.\n\n{text}"
)
STAFF_TEMPLATE_GONE = (
    "این پاسخ آماده دیگر در فهرست این واحد نیست؛ فهرست را دوباره باز کنید. چیزی فرستاده نشد."
)
# «ارسال همین متن» pressed after the request was answered another way (a pop-up notice)
STAFF_TEMPLATE_ANSWERED_SINCE = (
    "این درخواست پس از نمایش این پاسخ آماده پاسخ داده شد؛ این متن فرستاده نشد. اگر پاسخ باید "
    "اصلاح شود، پاسخ آماده را دوباره باز کنید."
)

# /find: the unit's own requests by tracking code, name or phone.
BTN_CARD_AGAIN = "نمایش دوباره کارت"
STAFF_FIND_HOW = (
    "برای جستجو در درخواست‌های این واحد، پس از \u200e{command} کد رهگیری، نام یا شماره همراه "
    "متقاضی را بنویسید؛ مثلاً \u200e{example}\n"
    "دست‌کم دو حرف از نام یا چهار رقم از شماره یا کد لازم است."
)
STAFF_FIND_EXAMPLE = "/find ۰۹۱۵۱۲۳۴۵۶۷"
STAFF_FIND_NONE = "درخواستی با این مشخصات در این واحد پیدا نشد."
STAFF_FIND_TITLE = "درخواست‌های این واحد که پیدا شد:"
STAFF_FIND_LINE = "• {code} — {status} — {date} — {name}"
STAFF_FIND_MORE = (
    "بیش از {limit} درخواست پیدا شد و فقط {limit} درخواست تازه‌تر آمده است؛ برای نتیجه دقیق‌تر، "
    "نام کامل، شماره همراه یا کد رهگیری را بنویسید."
)
STAFF_FIND_ONE = "برای دیدن کارت این درخواست و اقدام روی آن، «{button}» را بزنید."
STAFF_FIND_MANY = (
    "برای دیدن کارت یکی از آن‌ها، \u200e{command} را با کد رهگیری همان درخواست بفرستید."
)
STAFF_CARD_AGAIN_DONE = "کارت درخواست {code} پایین همین گروه دوباره فرستاده می‌شود."
STAFF_SAME_UNIT = "درخواست هم‌اکنون در همین واحد است."

# Who is staff in a group: its administrators and the members they grant (`/staff`).
STAFF_ONLY = (
    "فقط کارشناسان این گروه می‌توانند به درخواست‌ها رسیدگی کنند؛ اقدامی انجام نشد. "
    "مدیر گروه می‌تواند شما را کارشناس کند."
)
STAFF_UNCONFIRMED = (
    "پیام‌رسان الان نگفت چه کسانی مدیر این گروه هستند، پس کار شما انجام نشد. "
    "لطفاً چند دقیقه دیگر دوباره بفرستید."
)
STAFF_ANONYMOUS = (
    "پیامی که به نام گروه یا کانال فرستاده شود نمی‌تواند به درخواست‌ها رسیدگی کند؛ "
    "لطفاً با نام خودتان بفرستید."
)
ADMIN_ONLY = (
    "این دستور فقط برای مدیران این گروه و کسانی است که مدیران به آن‌ها اجازه داده‌اند؛ "
    "اقدامی انجام نشد."
)
STAFF_GRANT_HOW = (
    "روی یکی از پیام‌های آن عضو بزنید، «پاسخ» را انتخاب کنید و \u200e{command} را بفرستید."
)
STAFF_GRANTED = "✅ {name} از این پس کارشناس این گروه است (به اجازه {by})."
STAFF_REVOKED = "{name} دیگر کارشناس این گروه نیست (به تصمیم {by})."
STAFF_GRANT_ERRORS = {
    "not_admin": "فقط مدیران گروه می‌توانند کسی را کارشناس کنند یا کنار بگذارند.",
    "anonymous": STAFF_ANONYMOUS,
    "already": "{name} از پیش کارشناس این گروه است.",
    "admin": "{name} مدیر گروه است و به همین دلیل کارشناس است؛ این دستور درباره او کاری نمی‌کند.",
    "not_granted": "{name} کارشناس این گروه نیست.",
    "bot": "ربات نمی‌تواند کارشناس باشد.",
    "nameless": "این پیام به نام گروه یا کانال فرستاده شده و معلوم نیست فرستنده کیست.",
}
STAFF_LIST_TITLE = "کارشناسان این گروه"
STAFF_LIST_ADMINS = "مدیران گروه:"
STAFF_LIST_GRANTED = "کارشناسانی که مدیران اجازه داده‌اند:"
STAFF_LIST_LINE = "• {name}"
STAFF_LIST_GRANT_LINE = "• {name} (به اجازه {by})"
STAFF_LIST_NONE = "• کسی نیست"
STAFF_LIST_ALSO_ADMIN = " — مدیر گروه هم هست؛ اگر دیگر مدیر نباشد، با این اجازه کارشناس می‌ماند"
STAFF_LIST_NO_ADMINS = "• فهرست مدیران الان از پیام‌رسان دریافت نشد؛ کمی بعد دوباره بپرسید."
STAFF_NAMELESS = "بی‌نام"

NOTES = {
    "clarified": "💬 توضیح متقاضی:\n{text}",
    "reopened": "🔁 متقاضی از پاسخ راضی نبود و درخواست را بازگشایی کرد:\n{text}",
    "anonymous_answer": "پاسخ ثبت شد، اما این درخواست بدون نام است و پاسخ به متقاضی نمی‌رسد.",
    "half_time": "⏳ یادآوری: نیمی از مهلت پاسخ درخواست {code} گذشته است. مهلت: {due}",
    "due_today": "⏰ امروز آخرین مهلت پاسخ درخواست {code} است ({due}).",
    "escalated": "🚨 مهلت پاسخ درخواست {code} گذشته است و موضوع به «{head}» گزارش شد.",
}
ESCALATION = (
    "🚨 درخواست معوق: {kind} با کد {code} در «{unit}»؛ مهلت پاسخ {due} بوده است.\n"
    "موضوع: {topic} | شهرستان: {county}"
)
DIGEST_TITLE = "📋 گزارش روزانه درخواست‌های معوق ({date})"
DIGEST_LINE = "• {unit}: {count} درخواست — {codes}"
DIGEST_TOTAL = "جمع: {count} درخواست معوق"

# --- what citizens are told later ------------------------------------------------------------
# {yours}: the request as the citizen calls it (YOUR_KIND), the subject of the sentence
CITIZEN = {
    "in_progress": "{yours} با کد رهگیری {code} در حال بررسی است.",
    "transferred": "{yours} با کد رهگیری {code} برای رسیدگی به «{unit}» فرستاده شد.",
    "question": (
        "کارشناس «{unit}» درباره درخواست {code} از شما می‌پرسد:\n\n{question}\n\n"
        "برای پاسخ، دکمه «{button}» را بزنید، یا روی همین پیام بزنید و «پاسخ» را انتخاب کنید."
    ),
    "answer": (
        "پاسخ {yours} با کد رهگیری {code} از «{unit}»:\n\n{answer}\n\n"
        "لطفاً بگویید چقدر از این پاسخ راضی هستید:"
    ),
    "closed": "{yours} با کد رهگیری {code} بسته شد. دلیل: {reason}",
}
# a staff answer given as a voice note: what the citizen reads before hearing it
VOICE_ANSWER = "🎤 پاسخ با پیام صوتی است؛ آن را در پیام بعدی بشنوید."
# a staff answer that is only a photo, file, video or location: {what} an ATTACHMENT_NAMES word
FILE_ANSWER = "📎 پاسخ یک {what} است؛ آن را در پیام بعدی ببینید."
# a staff question asked by voice note / with only a file: what the citizen reads before it
VOICE_QUESTION = "🎤 پرسش با پیام صوتی است؛ آن را در پیام بعدی بشنوید."
FILE_QUESTION = "📎 پرسش در یک {what} است؛ آن را در پیام بعدی ببینید."
BTN_REPLY_QUESTION = "پاسخ به این پرسش"
RATE_LABELS = RATING_LABELS  # the survey's scale: «۵ عالی» … «۱ خیلی بد»
# after a tap the rating buttons go; in their place one button says what was recorded
BTN_RATED = "امتیاز شما: {label}"
ASK_CLARIFICATION = "لطفاً پاسخ خود را به پرسش کارشناس بنویسید (می‌توانید عکس یا فایل هم بفرستید)."
CLARIFICATION_SENT = "پاسخ شما به «{unit}» فرستاده شد. سپاس از همراهی شما."
# a citizen's answer that is only a photo, file or location: the note staff read over it;
# {what} an ATTACHMENT_NAMES word
CLARIFICATION_FILE = "📎 {what}؛ آن را در پیام بعدی ببینید."
CLARIFICATION_NOT_NEEDED = "این درخواست اکنون منتظر توضیح شما نیست."
# a plain message in the menu while a question waits: it answers the newest question
CLARIFICATION_SENT_FOR = (
    "پاسخ شما به پرسش کارشناس درباره درخواست با کد رهگیری {code} به «{unit}» فرستاده شد. "
    "سپاس از همراهی شما."
)

# --- a sentence typed in the menu, kept to be filed ------------------------------------------
OFFER_KEPT_TEXT = (
    "آیا می‌خواهید همین پیام را ثبت کنید؟ لازم نیست دوباره بنویسید؛ یکی از دو دکمه زیر را بزنید."
)
# a photo or a file alone in the menu: {what} an ATTACHMENT_NAMES word
OFFER_KEPT_FILE = (
    "{what} شما نگه داشته شد. آیا می‌خواهید آن را همراه یک درخواست ثبت کنید؟ "
    "یکی از دو دکمه زیر را بزنید."
)
BTN_KEEP_AS_COMPLAINT = "ثبت به‌عنوان شکایت"
BTN_KEEP_AS_SUGGESTION = "ثبت به‌عنوان پیشنهاد یا انتقاد"
KEPT_TEXT_USED = "پیام شما به‌عنوان شرح نگه داشته شد. چند پرسش دیگر مانده است."
KEPT_FILE_USED = "پیوست شما نگه داشته شد. چند پرسش دیگر مانده است."
KEPT_TEXT_GONE = "این پیام دیگر نگه داشته نشده است. لطفاً یکی از گزینه‌های منو را انتخاب کنید."

# --- quotas (FILINGS_PER_HOUR, FILINGS_PER_DAY, CLARIFICATIONS_PER_HOUR) --------------------
# {limit} and {time} («۷ آذر ۱۴۰۵، ساعت ۱۲:۳۰») come in Persian digits; the reason comes first,
# then what to do and when.
QUOTA_FILINGS = {
    "hour": (
        "برای اینکه کارشناسان به پیام همه مردم به‌موقع برسند، از هر نفر در یک ساعت "
        "بیش از {limit} درخواست یا نظر پذیرفته نمی‌شود."
    ),
    "day": (
        "برای اینکه کارشناسان به پیام همه مردم به‌موقع برسند، از هر نفر در یک شبانه‌روز "
        "بیش از {limit} درخواست یا نظر پذیرفته نمی‌شود."
    ),
}
QUOTA_CONFIRM_LATER = (
    "آنچه نوشته‌اید پاک نشده و همین‌جا می‌ماند. لطفاً از {time} به بعد دوباره «{confirm}» را بزنید."
)
QUOTA_SEND_LATER = (
    "پاسخ‌های قبلی شما پاک نشده است. لطفاً از {time} به بعد پیام آخر را دوباره بفرستید."
)
QUOTA_COMMENT_LATER = "نظر شما هنوز ثبت نشده است. لطفاً از {time} به بعد آن را دوباره بفرستید."
QUOTA_START_LATER = "لطفاً از {time} به بعد دوباره شروع کنید."
QUOTA_CLARIFICATIONS = (
    "برای هر درخواست در یک ساعت بیش از {limit} پیام پاسخ به کارشناس فرستاده نمی‌شود. "
    "این پیام آخر شما به کارشناس نرسید؛ لطفاً از {time} به بعد آن را دوباره بفرستید."
)
THANKS_FOR_RATING = "امتیاز شما ثبت شد: {label}. سپاس از نظر شما."
RATING_ALREADY = (
    "امتیاز شما به این پاسخ پیش‌تر ثبت شده است ({label}) و دیگر تغییر نمی‌کند. سپاس از نظر شما."
)
OFFER_REOPEN = (
    "متأسفیم که پاسخ رضایت شما را جلب نکرد. اگر می‌خواهید، درخواست را بازگشایی کنید تا "
    "دوباره بررسی شود (تنها یک بار و تا ۷ روز پس از پاسخ)."
)
BTN_REOPEN = "بازگشایی درخواست"
ASK_REOPEN_NOTE = "لطفاً بنویسید چرا پاسخ قانع‌کننده نبود و چه انتظاری دارید."
REOPENED = "درخواست {code} بازگشایی شد و دوباره به «{unit}» رسید."
REOPEN_REFUSED = {
    "late": "مهلت ۷ روزه بازگشایی این درخواست گذشته است. لطفاً درخواست تازه‌ای ثبت کنید.",
    "again": "این درخواست یک بار بازگشایی شده است و دوباره ممکن نیست.",
    "status": "این درخواست در وضعیتی نیست که بتوان آن را بازگشایی کرد.",
}
NOT_YOUR_REQUEST = "این درخواست از این حساب ثبت نشده است."
ACTION_DONE_ALREADY = "این دکمه دیگر کار نمی‌کند."

# --- draft regulations ---------------------------------------------------------------------------
BTN_DRAFTS = BTN_DRAFTS_MENU
BTN_READ_DRAFT = "دریافت متن کامل"
BTN_COMMENT_DRAFT = "ثبت نظر"
BTN_WHOLE_DRAFT = "درباره کل پیش‌نویس"
BTN_SECTION = "بخش {n}"
BTN_SUBSCRIBE = "خبرم کن: پیش‌نویس‌های تازه"
BTN_UNSUBSCRIBE = "دیگر خبرم نکن"
KIND_NAMES[Kind.COMMENT] = "نظر درباره پیش‌نویس"
YOUR_KIND[Kind.COMMENT] = "نظر شما درباره پیش‌نویس"
YOUR_COMMENT_ON = "نظر شما درباره پیش‌نویس «{title}»"  # a receipt, when the draft is known
NEXT_STEPS[Kind.COMMENT] = (
    "نظر شما به «{unit}» رسید و در بازنگری پیش‌نویس بررسی می‌شود. "
    "وقتی نسخه نهایی منتشر شود، در همین گفتگو خبرتان می‌کنیم. سپاس از مشارکت شما."
)

OFFER_SUBSCRIPTION = (
    "سازمان پیش‌نویس هر طرح، آیین‌نامه و دستورالعمل را پیش از تصویب دو هفته برای نظرخواهی "
    "عمومی منتشر می‌کند. می‌خواهید هر پیش‌نویس تازه را همین‌جا ببینید و نظر بدهید؟"
)
SUBSCRIBED = "از این پس پیش‌نویس‌های تازه را برایتان می‌فرستیم. با «{off}» لغو می‌شود."
UNSUBSCRIBED = "دیگر پیش‌نویس‌ها را برایتان نمی‌فرستیم. هر وقت خواستید با «{on}» دوباره فعال کنید."
DRAFTS_NONE = "اکنون پیش‌نویسی در نظرخواهی عمومی نیست."
DRAFTS_TITLE = "پیش‌نویس‌های در حال نظرخواهی عمومی:"
DRAFT_LINE = "• {title} — مهلت نظر: {deadline}"
DRAFTS_SUBSCRIPTION_ON = "شما پیش‌نویس‌های تازه را دریافت می‌کنید."
DRAFTS_SUBSCRIPTION_OFF = "شما پیش‌نویس‌های تازه را دریافت نمی‌کنید."
DRAFT_ANNOUNCE = (
    "📜 پیش‌نویس تازه برای نظرخواهی عمومی\n\n{title}\n\n{summary}\n\n"
    "واحد مسئول: {unit}\nمهلت نظر: {deadline}"
)
DRAFT_CARD = "📜 {title}\n\n{summary}\n\nواحد مسئول: {unit}\nمهلت نظر: {deadline}"
DRAFT_REMINDER = (
    "⏰ تنها دو روز به پایان نظرخواهی «{title}» مانده است (مهلت: {deadline}). "
    "اگر نظری دارید، اکنون ثبت کنید."
)
DRAFT_PICK_SECTION = "نظر شما درباره کدام بخش است؟"
DRAFT_SECTION = "بخش {n}:\n{text}"
DRAFT_ASK_COMMENT = (
    "نظر خود را درباره «{part}» بنویسید (دست‌کم چند کلمه؛ حداکثر حدود {words} کلمه). "
    "در صورت نیاز یک عکس یا فایل هم می‌توانید بفرستید."
)
DRAFT_WHOLE = "کل پیش‌نویس"
DRAFT_CLOSED = "مهلت نظرخواهی «{title}» در {closed} به پایان رسیده است و نظر تازه پذیرفته نمی‌شود."
DRAFT_UNKNOWN = "این پیش‌نویس پیدا نشد."
DRAFT_WITHDRAWN = (
    "سازمان این پیش‌نویس را پس گرفته است. دیگر نمی‌شود آن را خواند یا درباره آن نظر داد."
)
DRAFT_DIGEST = (
    "📊 نظرخواهی «{title}» بسته شد ({closed}).\n"
    "تعداد نظرها: {count}\n{per_section}\n\n"
    "فایل همه نظرها پیوست است. برای انتشار نسخه نهایی، روی همین پیام بزنید و «پاسخ» را "
    "انتخاب کنید، سپس فایل نسخه نهایی را با توضیح کوتاهی درباره تغییرات بفرستید."
)
DRAFT_DIGEST_LINE = "• {part}: {count}"
DRAFT_OUTCOME = (
    "✅ نسخه نهایی «{title}» منتشر شد.\n\nتغییرات پس از نظرخواهی:\n{note}\n\n"
    "نظر شما با کد رهگیری {code} در این بازنگری بررسی شد. سپاس از مشارکت شما."
)
DRAFT_WITHDRAWN_OUTCOME = (
    "سازمان پیش‌نویس «{title}» را پس گرفت و آن را اجرا نمی‌کند.\n\nدلیل:\n{note}\n\n"
    "نظر شما با کد رهگیری {code} ثبت شده بود. سپاس از مشارکت شما."
)
DRAFT_WITHDRAWN_DONE = (
    "پیش‌نویس «{title}» پس گرفته شد. دیگر کسی آن را نمی‌خواند و نظری نمی‌گیرد؛ "
    "به {count} نفر از نظردهندگان خبر داده می‌شود."
)
DRAFT_WITHDRAW_NEEDS_REASON = "لطفاً شناسه پیش‌نویس و دلیل پس گرفتن آن را بنویسید: \u200e{example}"
DRAFT_OPENED_ADMIN = "📢 نظرخواهی «{title}» آغاز شد؛ اعلان برای {total} مشترک در صف ارسال است."
DRAFT_PROGRESS_ADMIN = "📨 اعلان «{title}»: {sent} از {total} ارسال شد{failed}."
DRAFT_PROGRESS_FAILED = "، {failed} نرسید"
DRAFT_FINAL_DONE = "نسخه نهایی «{title}» منتشر شد و به {count} نفر از نظردهندگان خبر داده می‌شود."
DRAFT_FINAL_NEEDS_NOTE = (
    "لطفاً فایل نسخه نهایی را با یک توضیح کوتاه درباره تغییرات (در کپشن) بفرستید."
)
XLSX_SHEET = "نظرها"
XLSX_HEADERS = (
    "کد رهگیری",
    "تاریخ",
    "بخش",
    "متن نظر",
    "نام",
    "به‌عنوان",
    "پیام‌رسان",
    "پیوست",
)

# --- admin: publishing a draft -------------------------------------------------------------------
ADMIN_ASK_TITLE = "عنوان پیش‌نویس را بنویسید."
ADMIN_ASK_SUMMARY = (
    "خلاصه پیش‌نویس را بنویسید. بخش‌ها را با یک خط خالی از هم جدا کنید تا شهروندان "
    "بتوانند درباره هر بخش جداگانه نظر دهند."
)
ADMIN_ASK_FILE = "فایل پیش‌نویس (PDF یا Word) را بفرستید (حداکثر ۲۰ مگابایت)."
ADMIN_ASK_UNIT = "کدام واحد مسئول این پیش‌نویس است؟"
ADMIN_ASK_DAYS = "مهلت نظرخواهی چند روز باشد؟ (پیش‌فرض ۱۴ روز)"
BTN_DAYS_DEFAULT = "۱۴ روز"
ADMIN_PREVIEW = (
    "پیش‌نمایش:\n\n{card}\n\nفایل: {file}\nتعداد بخش‌ها: {sections}\n\n"
    "با «{confirm}» منتشر می‌شود و برای مشترکان فرستاده می‌شود."
)
ADMIN_PUBLISHED = "پیش‌نویس «{title}» با شناسه {id} منتشر شد. مهلت نظر: {deadline}"
ADMIN_FILE_WANTED = "لطفاً فایل پیش‌نویس را به‌صورت سند (فایل) بفرستید."
ADMIN_BAD_DAYS = "لطفاً عددی بین ۱ تا ۹۰ بنویسید."
ADMIN_CANCELLED = "انتشار پیش‌نویس لغو شد."
ADMIN_NOT_ALLOWED = "این دستور فقط در گفتگوهای مدیران پذیرفته می‌شود."
ADMIN_DRAFTS_LIST = "پیش‌نویس‌ها:"
ADMIN_NO_DRAFTS = "هنوز پیش‌نویسی ثبت نشده است."
ADMIN_NEED_ID = "لطفاً شناسه پیش‌نویس را پس از دستور بنویسید؛ مثلاً \u200e{example}"
ADMIN_DRAFT_LINE = "#{id} {title} — {status} — تا {deadline} — {comments} نظر"
ADMIN_DRAFT_STATUS = {
    "scheduled": "زمان‌بندی‌شده",
    "open": "در نظرخواهی",
    "closed": "بسته",
    "final": "نهایی",
    "withdrawn": "پس گرفته شده",
}
ADMIN_CLOSED = "نظرخواهی «{title}» بسته شد؛ گزارش آن برای «{unit}» فرستاده می‌شود."
ADMIN_DRAFT_ERROR = {
    "unknown": "پیش‌نویسی با این شناسه نیست.",
    "status": "این کار در وضعیت فعلی پیش‌نویس ممکن نیست.",
    "empty": "عنوان، خلاصه و توضیح نباید خالی باشد.",
    "unit": "واحد نامعتبر است.",
    "days": "مهلت باید بین ۱ تا ۹۰ روز باشد.",
    "file": "فایل خالی است یا از ۲۰ مگابایت بزرگ‌تر است.",
    "section": "بخش نامعتبر است.",
    "withdrawn": "این پیش‌نویس پس گرفته شده است.",
}

# --- admin: reports (/report, /overdue) ----------------------------------------------------------
REPORT_TITLE = "📊 گزارش میز خدمت"
REPORT_RANGE = "بازه: {period}\nوضعیت در {now}"
REPORT_PERIOD = "{first} تا {last}"
REPORT_PERIOD_NAMES = {"week": "این هفته", "month": "این ماه"}
REPORT_EMPTY = "در این بازه درخواستی ثبت نشده است."
REPORT_TOTAL = "جمع کل"
REPORT_BY_UNIT = "به تفکیک واحد"
REPORT_BY_KIND = "به تفکیک نوع درخواست"
# the parts add up to «دریافتی»: answered + closed without an answer + open (+ read only)
REPORT_COUNTS = (
    "دریافتی {received}: پاسخ داده شده {answered}، بسته بدون پاسخ {closed}، "
    "باز {open} (معوق {overdue}){read_only}"
)
REPORT_COUNTS_READ_ONLY = "، نظرسنجی و نظر بر پیش‌نویس {count} (پاسخ جداگانه ندارند)"
REPORT_TIMES = "زمان معمول نخستین اقدام: {first}؛ زمان معمول پاسخ: {answer}"
REPORT_QUALITY = "بازگشایی: {reopen}؛ رضایت: {satisfaction}"
REPORT_READ_ONLY = "دریافتی {received} (پاسخ جداگانه ندارد)"
REPORT_SATISFACTION = "{mean} از ۵ ({count} امتیاز)"
REPORT_DAYS = "{n} روز"
REPORT_HOURS = "{n} ساعت"
REPORT_MINUTES = "{n} دقیقه"
REPORT_AND = " و "
REPORT_UNDER_A_MINUTE = "کمتر از یک دقیقه"
REPORT_FOOTNOTE = (
    "شمارش‌ها درباره درخواست‌هایی است که در این بازه ثبت شده‌اند، با وضعیت کنونی‌شان. "
    "فهرست همه درخواست‌های معوق: \u200e/overdue"
)
REPORT_USAGE = (
    "نمونه‌ها:\n/report — این ماه\n/report هفته — این هفته\n"
    "/report ۱۴۰۵-۰۹-۰۱ ۱۴۰۵-۰۹-۳۰ — از روز نخست تا پایان روز دوم"
)
REPORT_BAD_PERIOD = {
    "format": "بازه گزارش را نشناختم.",
    "date": "این تاریخ در تقویم شمسی نیست.",
    "order": "تاریخ نخست باید پیش از تاریخ دوم باشد.",
}
REPORT_CHART_TITLE = "درخواست‌ها به تفکیک واحد"
REPORT_CHART_SERIES = ("دریافتی", "پاسخ داده شده", "معوق")
REPORT_CHART_CAPTION = "📊 دریافتی، پاسخ داده شده و معوق به تفکیک واحد — {period}"
OVERDUE_TITLE = "⏰ درخواست‌های معوق: {count}"
OVERDUE_LINE = "• {code} — {kind} — {unit}\n   مهلت: {due} — {late} تأخیر"
OVERDUE_DAYS = "{n} روز"
OVERDUE_NONE = "هیچ درخواست معوقی نیست."

# --- exports (python -m bot export, /export in an admin chat) ------------------------------------
EXPORT_SHEETS = {
    "requests": "درخواست‌ها",
    "events": "رویدادها",
    "survey": "نظرسنجی",
    "survey_summary": "خلاصه نظرسنجی",
}
EXPORT_REQUEST_HEADERS = (
    "کد رهگیری",
    "نوع",
    "وضعیت",
    "واحد",
    "موضوع",
    "شهرستان",
    "تاریخ ثبت",
    "تاریخ پاسخ",
    "مهلت پاسخ",
    "امتیاز رضایت",
    "دفعات بازگشایی",
    "پیام‌رسان",
    "نام",
    "تلفن",
)
EXPORT_EVENT_HEADERS = ("کد رهگیری", "زمان", "رویداد", "انجام‌دهنده", "وضعیت", "یادداشت")
EXPORT_SURVEY_HEADERS = ("کد رهگیری", "تاریخ", "خدمت")  # then one column per question
EXPORT_SURVEY_COMMENT = "توضیح"
EXPORT_SUMMARY_HEADERS = ("خدمت", "پرسش", "تعداد پاسخ", "میانگین (از ۵)")  # then LIKERT_LABELS
EXPORT_ALL_SERVICES = "همه خدمات"
EXPORT_STATUS_ROUTED = "ارجاع شده"
# Statuses in a workbook, read by staff and the head (not the citizen's «توضیح شما», and no
# «این واحد»: a row names its unit in its own column).
EXPORT_STATUS_NAMES = {
    Status.FILED: "ثبت شده",
    Status.ROUTED: "ارجاع شده، هنوز کسی برنداشته",
    Status.IN_PROGRESS: "در حال بررسی",
    Status.WAITING: "در انتظار پاسخ متقاضی",
    Status.ANSWERED: "پاسخ داده شده",
    Status.CLOSED: "بسته شده",
    Status.REOPENED: "بازگشایی شده",
}
EXPORT_ACTIONS = {
    "filed": "ثبت",
    "routed": "ارجاع خودکار",
    "claimed": "پذیرش بررسی",
    "transferred": "ارجاع به واحد دیگر",
    "asked": "درخواست توضیح",
    "clarified": "توضیح متقاضی",
    "answered": "پاسخ",
    "closed": "بستن",
    "rated": "امتیاز رضایت",
    "reopened": "بازگشایی",
    "half_time": "یادآوری نیمه مهلت",
    "due_today": "یادآوری روز آخر مهلت",
    "escalated": "گزارش معوق",
    "anonymised": "حذف داده‌های شخصی",
}
EXPORT_USAGE = "بازه خروجی را با دو تاریخ شمسی بنویسید؛ مثلاً \u200e{example}"
EXPORT_BAD_DATE = "«{value}» تاریخ شمسی درستی نیست؛ آن را به شکل ۱۴۰۵-۰۹-۰۱ بنویسید."
EXPORT_BAD_ORDER = "تاریخ شروع نباید بعد از تاریخ پایان باشد."
EXPORT_TOO_LONG = (
    "بازه خروجی در گفتگو حداکثر {days} روز است؛ برای بازه بلندتر از خط فرمان "
    "(python -m bot export) استفاده کنید."
)
EXPORT_TOO_BIG = (
    "فایل خروجی از {max} مگابایت بزرگ‌تر شد و در پیام‌رسان فرستاده نمی‌شود؛ "
    "بازه کوتاه‌تری بخواهید یا از خط فرمان استفاده کنید."
)
EXPORT_CAPTION = (
    "📁 خروجی {first} تا {last}\n"
    "درخواست‌ها: {requests} | رویدادها: {events} | پاسخ‌های نظرسنجی: {surveys}\n"
    "این فایل نام و شماره تماس شهروندان را دارد؛ آن را فقط در اختیار همکاران مسئول بگذارید."
)

# --- «تماس با ما»: the contact directory (directory.yaml) ---------------------------------------
BTN_DIRECTORY_SEARCH = "جستجو"
BTN_SEARCH_AGAIN = "جستجوی دوباره"
BTN_SWITCHBOARD_CARD = "کارت تماس تلفن‌خانه"
BTN_SEND_CARD = "ارسال کارت تماس"
BTN_SEND_CARD_OF = "{button}: {name}"
DIRECTORY_TITLE = "تماس با {org}"
DIRECTORY_ADDRESS = "نشانی: {address}"
DIRECTORY_POSTAL = "کد پستی: {code}"
DIRECTORY_SWITCHBOARD = "تلفن‌خانه: {phone}"
DIRECTORY_SWITCHBOARD_NAME = "تلفن‌خانه"
DIRECTORY_HOURS = "ساعات کار: {hours}"
DIRECTORY_EMAIL = "پست الکترونیک: {email}"
DIRECTORY_PHONE = "تلفن: {phone}"
DIRECTORY_MOBILE = "همراه: {phone}"
DIRECTORY_PICK = (
    "برای دیدن شماره مدیران و مسئولان، واحد مورد نظر را انتخاب کنید یا «{search}» را بزنید."
)
DIRECTORY_CARD_HINT = "با دکمه «{button}» کارت تماس را دریافت کنید؛ با یک لمس، شماره گرفته می‌شود."
DIRECTORY_ASK_SEARCH = (
    "نام، سمت یا واحد مورد نظر را بنویسید؛ مثلاً «باغبانی»، «بیمه» یا «بیرجند». "
    "برای بازگشت به منو «{cancel}» را بزنید."
)
DIRECTORY_SEARCH_MORE = (
    "برای جستجوی دیگر، کلمه تازه‌ای بنویسید؛ برای بازگشت به منو «{back}» را بزنید."
)
DIRECTORY_BACK = BACK_TO_MENU
DIRECTORY_TOO_SHORT = "لطفاً دست‌کم دو حرف از نام، سمت یا واحد مورد نظر را بنویسید."
DIRECTORY_NOT_FOUND = "متأسفانه برای «{term}» چیزی پیدا نشد. لطفاً کلمه دیگری را امتحان کنید."
DIRECTORY_FOUND = "برای «{term}» {count} مورد پیدا شد:"
DIRECTORY_TOO_MANY = "{shown} مورد نخست را می‌بینید؛ برای نتیجه دقیق‌تر، کلمه دیگری هم بنویسید."
DIRECTORY_BUSY = (
    "برای جستجو در فهرست تماس، لطفاً اول درخواست نیمه‌کاره را تکمیل یا با «انصراف» لغو کنید."
)
DIRECTORY_UNAVAILABLE = "فهرست تماس اکنون در دسترس نیست. لطفاً بعداً دوباره امتحان کنید."
FLOOD_SLOW_DOWN = (
    "پیام‌های شما در این دقیقه بیش از اندازه است. لطفاً کمی صبر کنید؛ "
    "پیام‌هایی که تا یک دقیقه دیگر بفرستید دیده نمی‌شوند."
)

# --- `python -m bot probe`: its test message in the admin chat, in Persian so that the real
# platform's run proves a Persian text in a UTF-8 JSON body comes back as sent ---------------
PROBE_NOTE = "پیام آزمایشی دفتر پیشخوان؛ می‌توانید پاکش کنید."

# --- delivery alerts to the admin chats (staff read them; ids stay Latin for copying) -----------
ALERT_HELD = (
    "⚠️ ربات نمی‌تواند در گروه «{group}» در {platform} پیام بفرستد.\n"
    "پاسخ پیام‌رسان: {reason}\n"
    "{todo}\n"
    "پیام‌های این گروه نگه داشته می‌شوند و هر وقت ربات دوباره بتواند، خودکار فرستاده می‌شوند."
)
ALERT_HELD_TODO = (
    "لطفاً ربات را دوباره به همین گروه اضافه کنید و اجازه فرستادن پیام به آن بدهید "
    "(اگر گروه حذف شده، شناسه گروه تازه را در routing_rules.yaml بنویسید)."
)
ALERT_HELD_MIGRATED = (
    "این گروه به ابرگروه تبدیل شده و شناسه تازه آن {new_id} است. "
    "لطفاً در routing_rules.yaml شناسه {old_id} را با {new_id} عوض کنید و ربات را دوباره "
    "راه‌اندازی کنید."
)
ALERT_RELEASED = (
    "✅ گروه «{group}» در {platform} دوباره پیام‌های ربات را می‌گیرد؛ پیام‌های مانده در راه است."
)
ALERT_PARKED = (
    "⚠️ {count} پیام فرستاده نشد و کنار گذاشته شد:\n{lines}\n"
    "فهرست کامل: python -m bot outbox\n"
    "فرستادن دوباره: python -m bot outbox retry و شماره پیام (یا ‎--all)"
)
ALERT_PARKED_LINE = "• #{id} {kind} در {platform}: {error}"
ALERT_PARKED_MORE = "• و {count} پیام دیگر"
ALERT_UNAUTHORIZED = (
    "⚠️ {platform} توکن ربات را نپذیرفت (خطای ۴۰۱). تا وقتی {setting} درست نشود، در {platform} "
    "پیامی فرستاده یا گرفته نمی‌شود؛ پیام‌ها در صف می‌مانند. {other} کار می‌کند."
)
ALERT_LOOKUPS = (
    "⚠️ در یک ساعت گذشته {count} جستجوی ناموفق کد رهگیری انجام شده است (کد اشتباه، یا "
    "شماره‌ای که مال فرستنده نبود). شاید کسی با چند حساب در حال حدس زدن کدهاست.\n"
    "ربات این جستجوها را محدود می‌کند و متن هیچ درخواستی را به آن‌ها نشان نداده است. "
    "این پیام تا یک ساعت دیگر تکرار نمی‌شود؛ اگر بعد از آن باز آمد، به مسئول فنی خبر دهید."
)
ALERT_ADMIN_GROUP = "گروه مدیران"
ALERT_KINDS = {
    "staff_card": "کارت درخواست",
    "card_refresh": "به‌روزرسانی کارت",
    "staff_note": "یادداشت در گروه واحد",
    "staff_copy": "پیوست در گروه واحد",
    "citizen_text": "پیام به شهروند",
    "citizen_copy": "پیوست برای شهروند",
    "broadcast": "پیام گروه",
    "draft_announce": "اعلان پیش‌نویس",
    "draft_reminder": "یادآوری پیش‌نویس",
    "draft_digest": "گزارش نظرهای پیش‌نویس",
    "draft_outcome": "نسخه نهایی پیش‌نویس",
    "admin_alert": "هشدار",
}

# --- returning citizens: the name and phone of the last filing, offered back ------------------
# The button is the citizen's own name and number, shown to them only; /forget erases them.
BTN_SAME_AS_BEFORE = "همان قبلی: {name}، {phone}"
SAME_AS_BEFORE_NAME_MAX = 24  # a longer name is cut (with «…») so the button stays one line
ASK_NAME_OR_SAME = (
    "لطفاً نام و نام خانوادگی خود را بنویسید، یا اگر نام و شماره همراه همان دفعه قبل است، "
    "دکمه «همان قبلی» را بزنید.\n"
    "برای پاک کردن نام و شماره‌ای که از شما به یاد داریم، \u200e/forget را بفرستید."
)
SUMMARY_ATTACH_HINT = "اگر عکس یا پیوستی دارید، همین حالا بفرستید."
ATTACHMENT_ADDED = "پیوست {n} از {max} دریافت شد."
FORGOTTEN = (
    "نام و شماره همراهی که از درخواست قبلی شما به یاد داشتیم پاک شد. "
    "در درخواست بعدی دوباره از شما پرسیده می‌شود."
)
NOTHING_TO_FORGET = "نام و شماره‌ای از شما به یاد نداریم."


# --- who comments on a draft, and what the comment card names (issue 14, items 6 and 8) -------
COMMENTER_ROLES = {
    "farmer": "کشاورز یا بهره‌بردار",
    "expert": "کارشناس یا متخصص",
    "official": "کارمند دستگاه اجرایی",
    "other": "سایر",
}
BTN_ROLE_SKIP = "ادامه بدون معرفی"
DRAFT_ASK_ROLE = (
    "شما به‌عنوان چه کسی نظر می‌دهید؟ یکی از دکمه‌ها را بزنید.\n"
    "نظر کارشناسان، متخصصان و کارکنان دستگاه‌های اجرایی برای ما بسیار ارزشمند است.\n"
    "اگر نمی‌خواهید بگویید، «{skip}» را بزنید یا نظر خود را همین حالا بنویسید."
)
ROLE_UNSAID = "نگفته است"
CARD_DRAFT = "پیش‌نویس: «{title}»\nبخش: {part}\nبه‌عنوان: {role}\n"
DRAFT_DIGEST_ROLES = "\n\nبه تفکیک نظردهنده:\n{per_role}"

# --- /help in staff groups and admin groups ------------------------------------------------------
HELP_STAFF = (
    "راهنمای کارشناسان در این گروه:\n"
    "• هر درخواست تازه به‌صورت یک کارت در این گروه می‌آید.\n"
    "• «{claim}»: بررسی درخواست را به عهده می‌گیرید.\n"
    "• «{transfer}»: درخواست را به واحد مسئول دیگری می‌فرستید.\n"
    "• «{ask}»: از متقاضی توضیح بیشتر می‌خواهید.\n"
    "• «{close}»: درخواست تکراری، خارج از حیطه یا نامرتبط را می‌بندید.\n"
    "• برای پاسخ به متقاضی، روی کارت بزنید و «پاسخ» را انتخاب کنید، سپس پاسخ را بنویسید.\n"
    "• برای انتشار نسخه نهایی یک پیش‌نویس، به گزارش نظرهای آن همین‌طور پاسخ دهید و فایل را "
    "بفرستید.\n"
    "• «{templates}» زیر کارت، یا \u200e/templates در پاسخ به کارت: یکی از پاسخ‌های آماده این "
    "واحد را انتخاب کنید؛ آن را همان‌طور بفرستید یا در پاسخ به آن، متن تغییریافته را بفرستید.\n"
    "• /find و پس از آن کد رهگیری، نام یا شماره همراه متقاضی: جستجو در درخواست‌های همین واحد.\n"
    "• /cancel: کار نیمه‌تمام (ارجاع یا پرسش) را لغو می‌کند."
)
HELP_ADMIN = (
    "راهنمای مدیران در این گروه:\n"
    "• /publish: انتشار پیش‌نویس تازه برای نظرخواهی عمومی\n"
    "• /drafts: فهرست پیش‌نویس‌ها و تعداد نظرها\n"
    "• /close_draft شناسه: بستن نظرخواهی پیش از مهلت\n"
    "• /withdraw_draft شناسه دلیل: پس گرفتن پیش‌نویس\n"
    "• /final شناسه توضیح (در کپشن فایل): انتشار نسخه نهایی\n"
    "• /report: گزارش این ماه («\u200e/report هفته» برای این هفته، یا دو تاریخ)\n"
    "• /overdue: درخواست‌های معوق\n"
    "• /export از-تاریخ تا-تاریخ: فایل اکسل درخواست‌ها؛ مثلاً \u200e/export ۱۴۰۵-۰۹-۰۱ ۱۴۰۵-۰۹-۳۰"
)
HELP_PEOPLE = (
    "چه کسی کارشناس این گروه است:\n"
    "• /staff (در پاسخ به پیام یک عضو): مدیر گروه او را کارشناس می‌کند.\n"
    "• /unstaff (در پاسخ به پیام او): این اجازه را پس می‌گیرد.\n"
    "• /staff_list: فهرست کارشناسان این گروه"
)


# The command menu Telegram shows beside the input (Bale documents no setMyCommands):
COMMANDS_PRIVATE = (
    ("start", "منوی اصلی"),
    ("cancel", "لغو درخواست نیمه‌کاره"),
    ("forget", "پاک کردن نام و شماره به‌یادمانده"),
)
COMMANDS_GROUPS = (
    ("help", "راهنمای کارشناسان و مدیران"),
    ("templates", "پاسخ‌های آماده واحد (در پاسخ به کارت)"),
    ("find", "جستجوی درخواست با کد رهگیری، نام یا شماره همراه"),
)
