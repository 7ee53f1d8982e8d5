"""The demo: notice 邵政办发〔2014〕54号 with the county's 33 units, moved to the present."""
