"""Every check of the kit, for a test module to import::

    from asgard.testing.kit import *  # noqa: F403

pytest collects the imported tests as the module's own; each takes the ``harness``
fixture (``asgard.testing.harness_fixture``)."""

from asgard.testing.answers import test_a_wrong_answer_is_the_clusters_error_entry
from asgard.testing.isolation import (
    test_a_prefix_namespace_cannot_reach_a_job,
    test_a_prefix_namespace_cannot_reach_a_scheduled_job,
    test_a_prefix_namespace_cannot_reach_an_app,
    test_climbing_ids_reach_nothing,
)
from asgard.testing.jobs import (
    test_a_deleted_job_is_gone,
    test_a_failed_job_reports_its_exit_code,
    test_a_job_runs_and_leaves_its_output,
    test_a_job_without_files_says_so,
    test_a_workflow_volume_carries_files_from_stage_to_stage,
    test_another_account_cannot_see_or_touch_a_job,
    test_there_is_no_output_before_the_end,
    test_workflow_volumes_are_refused_when_the_kind_has_none,
)
from asgard.testing.reads import (
    test_agent_usage_counts_what_instances_reserve,
    test_agents_are_scoped_by_owner,
    test_agents_describe_real_machines,
    test_an_account_with_no_allowed_cluster_sees_nothing,
    test_another_namespace_cannot_read_an_app,
    test_apps_of_the_namespace_are_listed_without_it,
    test_apps_on_an_agent_are_the_accounts_own,
    test_meters_name_only_listed_agents_with_plausible_figures,
    test_one_agent_is_the_one_listed,
    test_one_app_and_its_tasks,
    test_the_cluster_says_what_it_can_do,
    test_unknown_agent_is_not_found,
    test_unknown_app_is_not_found,
    test_unknown_cluster_is_not_found,
)
from asgard.testing.versions import (
    test_a_rollback_deploys_the_previous_version,
    test_the_first_version_is_what_runs,
    test_versions_say_who_deployed_them,
)
from asgard.testing.writes import (
    test_a_taken_id_is_a_conflict,
    test_an_app_is_deployed_as_specified,
    test_an_unknown_image_leaves_nothing_behind,
    test_an_update_redeploys_every_instance,
    test_another_account_cannot_touch_an_app,
    test_delete_leaves_nothing_behind,
    test_restart_replaces_every_instance,
    test_scaling_up_down_to_zero_and_back,
)

__all__ = [
    "test_a_deleted_job_is_gone",
    "test_a_failed_job_reports_its_exit_code",
    "test_a_job_runs_and_leaves_its_output",
    "test_a_job_without_files_says_so",
    "test_a_prefix_namespace_cannot_reach_a_job",
    "test_a_prefix_namespace_cannot_reach_a_scheduled_job",
    "test_a_prefix_namespace_cannot_reach_an_app",
    "test_a_rollback_deploys_the_previous_version",
    "test_a_taken_id_is_a_conflict",
    "test_a_workflow_volume_carries_files_from_stage_to_stage",
    "test_a_wrong_answer_is_the_clusters_error_entry",
    "test_agent_usage_counts_what_instances_reserve",
    "test_agents_are_scoped_by_owner",
    "test_agents_describe_real_machines",
    "test_an_account_with_no_allowed_cluster_sees_nothing",
    "test_an_app_is_deployed_as_specified",
    "test_an_unknown_image_leaves_nothing_behind",
    "test_an_update_redeploys_every_instance",
    "test_another_account_cannot_see_or_touch_a_job",
    "test_another_account_cannot_touch_an_app",
    "test_another_namespace_cannot_read_an_app",
    "test_apps_of_the_namespace_are_listed_without_it",
    "test_apps_on_an_agent_are_the_accounts_own",
    "test_climbing_ids_reach_nothing",
    "test_delete_leaves_nothing_behind",
    "test_meters_name_only_listed_agents_with_plausible_figures",
    "test_one_agent_is_the_one_listed",
    "test_one_app_and_its_tasks",
    "test_restart_replaces_every_instance",
    "test_scaling_up_down_to_zero_and_back",
    "test_the_cluster_says_what_it_can_do",
    "test_the_first_version_is_what_runs",
    "test_there_is_no_output_before_the_end",
    "test_unknown_agent_is_not_found",
    "test_unknown_app_is_not_found",
    "test_unknown_cluster_is_not_found",
    "test_versions_say_who_deployed_them",
    "test_workflow_volumes_are_refused_when_the_kind_has_none",
]
