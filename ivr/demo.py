"""The demo flow of the original Runa-CCA "new service" line (docs/api.md §8), with its wording,
bound to +815012345678. Seeded through the same import the flow files use."""

from queues.models import Queue

from .flowfile import FORMAT, flows_import

DEMO_NUMBER = "+815012345678"
DEMO_FLOW = "新サービス"
DEMO_QUEUE = "support"

GREETING = (
    "こちらは、サンプルコールセンタです。"
    "お問い合わせは1を、最新の製品情報をお聞きになりたい場合は2を押してください。"
)
INVALID_KEY = (
    "再度入力をお願いします。"
    "お問い合わせは1を、最新の製品情報をお聞きになりたい場合は2を押してください。"
)
NO_INPUT = "入力が確認できませんでした。オペレータにおつなぎします。しばらくお待ちください。"
TO_OPERATOR = "オペレータにおつなぎします。しばらくお待ちください。"
PRODUCT_INFO = (
    "お電話ありがとうございました。ただいま、新サービスリリース検討中です。"
    "もうしばらくお待ちくださいね。"
)

DEMO_DOCUMENT = {
    "format": FORMAT,
    "schedules": [],
    "flows": [
        {
            "name": DEMO_FLOW,
            "language": "ja-JP",
            "voice": "Polly.Mizuki",
            "start_step": "main-menu",
            "steps": [
                {
                    "name": "main-menu",
                    "kind": "menu",
                    "text": GREETING,
                    "audio_url": "",
                    "num_digits": 1,
                    "timeout": 10,
                    # The original repeats the choices inside its invalid-key message.
                    "invalid_message": INVALID_KEY,
                    "repeat_prompt": False,
                    "no_input_message": NO_INPUT,
                    "max_retries": 5,
                    "no_input_step": "support-queue",
                    "options": [
                        {"key": "1", "target": "to-operator"},
                        {"key": "2", "target": "product-info"},
                    ],
                },
                {
                    "name": "to-operator",
                    "kind": "say",
                    "text": TO_OPERATOR,
                    "audio_url": "",
                    "next_step": "support-queue",
                },
                {"name": "support-queue", "kind": "queue", "queue": DEMO_QUEUE, "next_step": None},
                {
                    "name": "product-info",
                    "kind": "say",
                    "text": PRODUCT_INFO,
                    "audio_url": "",
                    "next_step": None,
                },
            ],
        }
    ],
    "numbers": [
        {"number": DEMO_NUMBER, "name": "デモ番号", "flow": DEMO_FLOW, "twilio_sid": ""},
    ],
}


def seed(command):
    # The queues demo normally made it already; this keeps the flow seedable on its own.
    Queue.objects.get_or_create(slug=DEMO_QUEUE, defaults={"name": "サポート"})
    flows_import(document=DEMO_DOCUMENT)
    command.stdout.write(f"  flow {DEMO_FLOW} on {DEMO_NUMBER}")
