from zkshell.cli import main

raise SystemExit(main())
