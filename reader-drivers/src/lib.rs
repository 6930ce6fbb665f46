//! Reader drivers: async LLRP and serial sessions that turn readers into `TagRead`s, and reader emulators.
