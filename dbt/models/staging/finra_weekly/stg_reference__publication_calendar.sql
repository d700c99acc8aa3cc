-- Due dates of source partitions, written by dagster_project.reference from the publication calendar module.
select
    dataset,
    partition_start,
    tier,
    due_date
from {{ source('reference', 'publication_calendar') }}
