"""Reading: customer files, what each column means, one record per customer, order logs."""
