"""Notification's HTTP edge: providers' delivery reports, the citizen's pages (survey,
complaint, preferences), officials' complaints and operators' view of messages."""
