"""Video-analytics detections (视频智能识别) → cases on channel ``video_ai``.

The analytics platform calls the webhook with an API token. A detection whose confidence
reaches the threshold opens a case at the camera's place, once per ``detection_id``
(idempotency key ``video:<id>``, the calling token's user's own: another caller's replay of
the id is refused, never answered with the case); below the threshold nothing is stored.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from jiayuan.accounts.scope import scope_for
from jiayuan.core.errors import NotFound, ValidationFailed
from jiayuan.sensors.models import CAMERA_KIND, Device
from jiayuan.sensors.services.categories import ensure_category

# detection category → case category (the urban-management dictionary where it has one)
CATEGORIES: dict[str, str] = {
    "fire": "S-fire", "smoke": "S-fire", "ebike_indoor": "S-fire",
    "fire_lane_blocked": "09012", "crowd": "S-crowd", "flood": "S-flood",
    "fall": "S-care", "intrusion": "S-panic",
}
_ID_RE = re.compile(r"[\x21-\x7e]{1,64}")


def intake_detection(data: dict[str, Any], *, user: Any, threshold: float) -> dict[str, Any]:
    from jiayuan.cases.models import Category
    from jiayuan.cases.services import open_case
    from jiayuan.cases.workdays import TimeLimit, TimeUnit
    from jiayuan.sensors.services.categories import time_limit_minutes

    detection_id = str(data.get("detection_id") or "")
    if not _ID_RE.fullmatch(detection_id):
        raise ValidationFailed("detection_id 应为 1–64 个可见 ASCII 字符",
                               details={"detection_id": ["格式有误"]})
    confidence = data.get("confidence")
    if not isinstance(confidence, int | float) or not 0 <= confidence <= 1:
        raise ValidationFailed("confidence 应为 0 到 1 之间的数值",
                               details={"confidence": ["超出范围"]})
    category = str(data.get("category") or "")
    if category not in CATEGORIES:
        raise ValidationFailed(f"未知的识别类别“{category}”",
                               details={"category": sorted(CATEGORIES)})
    camera = Device.objects.select_related("entrance").filter(
        code=data.get("camera") or "", kind=CAMERA_KIND).first()
    if camera is None:
        raise NotFound("未登记的视频通道", details={"camera": data.get("camera")})
    scope_for(user).require(camera.path)
    if confidence < threshold:
        return {"accepted": False, "reason": "below_threshold", "threshold": threshold}
    code = CATEGORIES[category]
    if code.startswith("S-"):
        code = ensure_category(code)
        limit = TimeLimit(time_limit_minutes(code), TimeUnit.MINUTES)
    else:
        limit = None  # the dictionary category's own time limit
        if not Category.objects.filter(code=code, active=True).exists():
            code = ensure_category("S-video")
            limit = TimeLimit(time_limit_minutes(code), TimeUnit.MINUTES)
    where = camera.address or camera.name or camera.code
    text = (f"【视频智能识别】{data.get('description') or category}（置信度 {confidence:.2f}）"
            f"，视频通道 {camera.code}，{where}")
    if data.get("snapshot_url"):
        text += f"。截图：{str(data['snapshot_url'])[:300]}"
    place: dict[str, Any] = {}
    if camera.entrance is not None:
        place["entrance"] = camera.entrance
    elif camera.lng is not None and camera.lat is not None:
        place.update(lng=camera.lng, lat=camera.lat)
    case, created = open_case(
        channel="video_ai", description=text[:2000], category_code=code,
        idempotency_key=f"video:{detection_id}", external_id=detection_id,
        reported_at=data.get("at"), time_limit=limit,
        source_ref=f"sensors.video:{detection_id}"[:64], address=camera.address,
        caller=f"user:{user.pk}", request_hash=_hash(data), **place)
    return {"accepted": True, "created": created, "case": case.number}


def _hash(data: dict[str, Any]) -> str:
    """SHA-256 of the detection as sent: a replayed ``detection_id`` with other content is
    refused (409) rather than answered with the first detection's case."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
