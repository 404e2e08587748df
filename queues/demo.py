"""The demo queue `support` with the Japanese wording of the original system (docs/api.md §8)."""

from .models import Queue, QueueMessages

DEMO_QUEUE = {
    "slug": "support",
    "name": "サポート",
    "announce_every_seconds": 30,
    "announce_pause_seconds": 3,
    # The demo pushes callers to agents (docs/routing.md).
    "routing_mode": "push",
    # Offer a callback (virtual hold) after two minutes of waiting.
    "callback_after_seconds": 120,
    # The original's hold music (Runa-CCA NewService Conf::MOH_LONG): "then hold music".
    "hold_music_url": (
        "http://com.twilio.sounds.music.s3.amazonaws.com/MARKOVICHAMP-Borghestral.mp3"
    ),
}
DEMO_MESSAGES = {
    "voice": "Polly.Mizuki",
    "position_message": "お待たせしております。現在、{position}番目にお待ちです。",
    "position_with_wait_message": (
        "お待たせしております。現在、{position}番目にお待ちです。"
        "あと{minutes}分ほどでおつなぎできる見込みです。"
    ),
    "connect_message": "オペレータにおつなぎします。",
    "queue_full_message": "ただいま大変混み合っております。しばらくしてからおかけ直しください。",
    "recording_notice": "品質向上のため、この通話は録音させていただきます。",
    "callback_offer_message": (
        "順番を保ったまま折り返しのお電話をご希望の場合は、1を押してください。"
    ),
    "callback_number_message": (
        "{number}におかけします。よろしければ1を、別の番号の場合は番号を押して最後に#を押してください。"
    ),
    "callback_invalid_message": (
        "お電話番号を確認できませんでした。折り返し先の番号を押して、最後に#を押してください。"
    ),
    "callback_confirmed_message": (
        "承りました。順番が来ましたら{number}におかけします。お電話ありがとうございました。"
    ),
}


def seed(command):
    queue = Queue.objects.filter(slug=DEMO_QUEUE["slug"]).first()
    if queue is None:
        queue = Queue(**DEMO_QUEUE)
    else:
        for field, value in DEMO_QUEUE.items():
            setattr(queue, field, value)
    # Not pushed to Twilio: seeding must work offline, and Twilio creates a queue on its first
    # <Enqueue> anyway. Saving it once in the admin syncs it.
    queue.save()
    QueueMessages.objects.update_or_create(
        queue=queue, language="ja-JP", defaults={"order": 1, **DEMO_MESSAGES}
    )
    state = "synced" if queue.is_synced else "not synced with Twilio (save it in the admin)"
    command.stdout.write(f"  queue {queue.slug} ({queue.name}), {state}")
