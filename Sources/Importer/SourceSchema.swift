/// The DDL of `Schemas/source.sql`, verbatim (a test compares the two), so the binary can
/// create the tables without finding the repository at run time.
public let sourceSchemaDDL = """
  -- Source tables read by `dataset` (contract: ../shared/spec/source-tables.md).
  -- No UNIQUE constraint on the business key (game_date, player_lookup): duplicates occur in real
  -- exports and must stay visible to the duplicate_keys gate.

  CREATE TABLE IF NOT EXISTS player_game_summary (
    player_lookup       TEXT NOT NULL,
    player_full_name    TEXT,
    universal_player_id TEXT,
    game_id             TEXT NOT NULL,
    game_date           TEXT NOT NULL,
    season_year         INTEGER NOT NULL,
    team_abbr           TEXT NOT NULL,
    opponent_team_abbr  TEXT NOT NULL,
    is_home             INTEGER,
    minutes_played      REAL,
    points              INTEGER,
    fg_makes            INTEGER,
    fg_attempts         INTEGER,
    three_pt_makes      INTEGER,
    three_pt_attempts   INTEGER,
    ft_makes            INTEGER,
    ft_attempts         INTEGER,
    offensive_rebounds  INTEGER,
    defensive_rebounds  INTEGER,
    assists             INTEGER,
    steals              INTEGER,
    blocks              INTEGER,
    turnovers           INTEGER,
    personal_fouls      INTEGER,
    plus_minus          INTEGER,
    usage_rate          REAL,
    is_dnp              INTEGER,
    processed_at        TEXT
  );

  CREATE TABLE IF NOT EXISTS player_composite_factors (
    player_lookup              TEXT NOT NULL,
    game_date                  TEXT NOT NULL,
    game_id                    TEXT NOT NULL,
    fatigue_score              INTEGER,
    shot_zone_mismatch_score   REAL,
    pace_score                 REAL,
    usage_spike_score          REAL,
    total_composite_adjustment REAL,
    calculation_version        TEXT,
    processed_at               TEXT
  );

  """
