"""What goals learns from ``kamu.meetings.events``: which goals were reviewed in which meeting.

Only goals of one of the meeting's two people are linked (a meeting cannot claim someone
else's goal).
"""

from kamu_goals.domain.inbound import MeetingHeld
from kamu_shared.consumer.messages import Delivery
from kamu_shared.db.pool import Connection

GROUP = "goals.meeting-events"


async def handle(conn: Connection, delivery: Delivery) -> None:
    event = delivery.event
    if isinstance(event, MeetingHeld) and event.goal_ids:
        await conn.execute(
            """INSERT INTO goals_meeting_links (goal_id, meeting_id, held_at)
               SELECT goal_id, $2, $3 FROM goals_goals
               WHERE goal_id = ANY($1::text[]) AND owner_id IN ($4, $5)
               ON CONFLICT (goal_id, meeting_id) DO UPDATE SET held_at = EXCLUDED.held_at""",
            event.goal_ids,
            event.meeting_id,
            event.held_at,
            event.colleague_id,
            event.kamu_id,
        )
