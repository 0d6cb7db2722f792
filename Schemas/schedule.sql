-- Optional table (source-tables.md). When present it defines a season's expected game dates and
-- games; `dataset import` does not create it.
CREATE TABLE IF NOT EXISTS schedule (
  game_id        TEXT,
  game_date      TEXT,
  season_year    INTEGER,
  home_team_abbr TEXT,
  away_team_abbr TEXT
);
