"""Realistic incident-channel texts (English and Japanese, mentions, links, code), from a seeded RNG."""

from __future__ import annotations

import random

PEOPLE = {
    "U0ANA": "Ana Silva",
    "U0KEN": "山田 健",
    "U0MIN": "김민준",
    "U0LEE": "Lee Chen",
    "U0SAT": "佐藤 花子",
    "U0RAJ": "Raj Patel",
    "U0OLA": "Ola Nordmann",
    "U0YUK": "鈴木 由紀",
    "U0TOM": "Tom Becker",
    "U0NGU": "Nguyễn Văn An",
    "U0FAT": "Fatima Zahra",
    "U0HIR": "高橋 宏",
}
SERVICES = ("checkout-api", "payments", "auth", "search", "cart", "inventory", "決済API", "在庫サービス", "edge-proxy")

ENGLISH = (
    "checking {svc} dashboards now, error rate at {n}%",
    "p99 latency on {svc} is {n}ms, was 180ms before the deploy",
    "rolling back {svc} to 2026.11.{n}-2",
    "<@{user}> can you look at the connection pool metrics for {svc}?",
    "deploy {n} finished; watching the 502s",
    "I see `ECONNRESET` from {svc} in the logs around 13:5{d}",
    "<https://grafana.example.com/d/{n}|{svc} overview> shows the drop clearly",
    "customers reporting failed payments in #support, {n} tickets so far",
    "cache hit ratio fell to {n}% after the flush",
    "mitigation in place: traffic shifted to us-east-{d}",
    "still seeing timeouts, not it",
    "found it: max_connections is {d} in the new config | should be 50",
    "paging the db on-call, <@{user}> is joining",
    "status page updated: _investigating elevated errors on {svc}_",
    "```\nERROR pool exhausted (size={d}) waiting=128\n```",
    "> customers can't check out\nquoting the support ticket above",
    "error budget for {svc} burned {n}% in the last hour",
    "false alarm on {svc}, it's the synthetic check & not real traffic",
    "ok, 502s down to {d} per minute <!here>",
    "restarting the {svc} pods one by one :crossed_fingers:",
)
JAPANESE = (
    "{svc}のダッシュボードを確認中です。エラー率は{n}%",
    "原因: デプロイ 2026.11.22-{d} で接続プールが {d} に | 設定ミス",
    "ロールバックを開始します（{svc}）",
    "<@{user}> さん、{svc}のログを見てもらえますか？",
    "502 が減ってきました。引き続き監視します",
    "顧客からの問い合わせが{n}件来ています",
    "暫定対応として us-east-{d} にトラフィックを切り替えました",
    "キャッシュのヒット率が{n}%まで低下",
    "再発防止策: プールサイズにアラートを追加する",
    "ステータスページを更新しました：{svc}で障害発生中",
    "DB の接続数が上限 ({n}) に達しています",
    "復旧を確認しました。エラー率 0.{d}%",
)
LONG = (
    "Summary so far for anyone joining: the {svc} deploy at 13:50 changed the pool size; requests queue, "
    "time out after 30 s and the edge returns 502. We rolled back at 14:40 and the error rate is dropping. "
    "Next steps: confirm the config diff, add an alert on pool saturation, and review why canary did not catch it. "
)


def text(rng: random.Random, users: list[str]) -> str:
    roll = rng.random()
    pool = JAPANESE if roll < 0.3 else ENGLISH
    template = rng.choice(pool)
    out = template.format(svc=rng.choice(SERVICES), n=rng.randint(2, 999), d=rng.randint(1, 9), user=rng.choice(users))
    if rng.random() < 0.03:
        out = (LONG.format(svc=rng.choice(SERVICES)) * rng.randint(1, 6)).strip()
    return out
