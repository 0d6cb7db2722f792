import DatasetCLI

DatasetCommand.main()
