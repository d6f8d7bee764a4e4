"""Investigation helpers: who the actors are, which event types exist, the history of
one resource, and login signals — derived from the events table's stream after
recording, kept apart from the log (a derived index may be rebuilt; the log never is).

`terms` holds how actors are matched by name, email or id; `storage` every read and
write of the investigation table; `indexing` what one stream batch changes there;
`lookups` what the read routes answer.
"""
