"""Citizens' documents at the counter (số hóa): what is accepted, scanned, stored."""
