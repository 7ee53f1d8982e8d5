"""Use cases. Each public function that changes state owns one transaction."""
