"""Session-state keys, in one place so pages never spell them twice."""

DATASET = "dataset_name"
EXPLORE_MODEL = "explore_model_id"   # set by "use in Explore" on the Train page
SELECTED_TRACK = "selected_track_id"
TRAIN_CANCEL = "train_cancel_requested"
LAST_TRAIN = "last_train_result"
TRAIN_OUTCOME = "train_outcome"      # (kind, facts) of the run that just ended, said once on the next run
TRAIN_FOLLOW = "train_follow_last"   # the model table's picker moves to the model a run just made
IMPORT_MESSAGES = "import_messages"
DATASET_SEARCH = "dataset.search"    # the Dataset page's search box
DATASET_TRACK = "dataset.track"      # the Dataset page's track picker (follows search and table clicks)
GRID_PICK = "dataset.grid.applied"   # the table selection already applied to the picker
RECON_MODEL = "recon.model"
