"""How each language writes dates and times (settings.FORMAT_MODULE_PATH), ahead of Django's own locale formats.

Django's Arabic formats define no DATETIME_FORMAT nor SHORT_DATETIME_FORMAT, and Darija has no formats at all:
both fell back to the US defaults ("12/04/2026 8 م" for 4 December, 20:00). Day before month everywhere, a
24-hour clock, Western digits (as written in Morocco and France). Month names come from the catalogues: Django's
for fr, es, en and ar; locale/ary's for Darija (يناير … دجنبر, the msgids of django.utils.dates).
"""
