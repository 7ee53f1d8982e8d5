"""Operations: what the people running Rectify do to it as a whole, outside any campaign.

backup (one archive of the database and every uploaded file, with a manifest of checksums;
restore into an empty database and upload folder; verify an archive). Reads the configuration
and the database engine; imports nothing else from app.services."""
