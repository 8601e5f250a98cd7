"""Session-state keys, in one place so pages never spell them twice."""

DATASET = "dataset_name"
EXPLORE_MODEL = "explore_model_id"   # set by "use in Explore" on the Train page
SELECTED_TRACK = "selected_track_id"
TRAIN_CANCEL = "train_cancel_requested"
LAST_TRAIN = "last_train_result"
IMPORT_MESSAGES = "import_messages"
