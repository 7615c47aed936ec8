"""Reports for people: the HTML dataset card, the table quality report and contact sheets."""
